import { DockerfileSyntaxError } from "../errors.js";
import { locateWord } from "../ir/word-location.js";
import type { InstructionBase } from "../ir/types.js";
import { ShellExpansionError } from "../shell/lex.js";

/**
 * A DockerfileSyntaxError located at an instruction, for errors found while
 * evaluating (expansion failures, bad expanded values). The source line is
 * rebuilt from the instruction's own text.
 */
export function instructionError(inst: InstructionBase, reason: string, file = "Dockerfile"): DockerfileSyntaxError {
  const nl = inst.text.indexOf("\n");
  const first = nl < 0 ? inst.text : inst.text.slice(0, nl);
  const column = inst.range.start.column;
  return new DockerfileSyntaxError(reason, {
    file,
    line: inst.range.start.line,
    column,
    sourceLine: " ".repeat(column - 1) + first.replace(/\r$/, ""),
    endLine: inst.range.end.line,
  });
}

/**
 * A failed expansion as a DockerfileSyntaxError: an unterminated quote points at the
 * quote itself (when its word can be found in the source), anything else at the instruction.
 */
export function expansionError(inst: InstructionBase, e: ShellExpansionError, file = "Dockerfile", escape = "\\"): DockerfileSyntaxError {
  const at = e.quoteOffset !== undefined ? locateWord(inst, [e.word], e.quoteOffset, escape) : undefined;
  if (!at) return instructionError(inst, e.message, file);
  return new DockerfileSyntaxError(e.message, { file, ...at, endLine: inst.range.end.line });
}
