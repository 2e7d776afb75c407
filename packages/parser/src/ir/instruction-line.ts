import { parseDockerfile } from "../lexer/parser.js";
import { errorAt } from "./stages.js";
import { convertInstruction } from "./convert.js";
import { InstructionError } from "./instruction-error.js";
import type { Instruction } from "./types.js";

/**
 * Parses one instruction from text, such as an ONBUILD trigger stored in a base
 * image's config (`RUN echo hi`, or `COPY <<EOF /x\nbody\nEOF` with heredocs).
 * The text must hold exactly one instruction, and not FROM. Stage references
 * (COPY --from) are not resolved: they belong to the build that runs the
 * trigger. Throws DockerfileSyntaxError.
 */
export function parseInstructionLine(line: string, opts: { file?: string } = {}): Instruction {
  const df = parseDockerfile(line, { file: opts.file ?? "ONBUILD trigger" });
  const node = df.instructions[0];
  if (df.instructions.length !== 1) {
    throw errorAt(df, df.instructions[1], "onbuild trigger should be a single expression");
  }
  if (node.keyword.toLowerCase() === "from") throw errorAt(df, node, "FROM isn't allowed as an ONBUILD trigger");
  try {
    return convertInstruction(node);
  } catch (e) {
    if (e instanceof InstructionError) throw errorAt(df, node, e.message, e.near);
    throw e;
  }
}
