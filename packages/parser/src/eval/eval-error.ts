import { DockerfileSyntaxError } from "../errors.js";
import type { InstructionBase } from "../ir/types.js";

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
