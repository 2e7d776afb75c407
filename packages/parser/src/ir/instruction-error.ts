/**
 * A problem with one instruction, found while building the typed IR. `near` is
 * text of the instruction (a flag, an argument) to point the caret at.
 */
export class InstructionError extends Error {
  readonly near?: string;
  constructor(message: string, near?: string) {
    super(message);
    this.name = "InstructionError";
    this.near = near;
  }
}
