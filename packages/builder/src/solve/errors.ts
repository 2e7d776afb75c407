// Errors a build reports to its caller. Each carries what a user needs to act: the step,
// its place in the Dockerfile and, for a failed command, its exit code and last output.
import type { StepRef } from "../api-types.js";

/** A RUN whose command exited non-zero. */
export class StepFailedError extends Error {
  constructor(
    readonly step: StepRef,
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly outputTail: string[],
  ) {
    super(`process "${argv.join(" ")}" did not complete successfully: exit code: ${exitCode}`);
    this.name = "StepFailedError";
  }
}

/** Any other failure of a step (a missing COPY source, a bad --chown user, …), with its location. */
export class StepError extends Error {
  constructor(
    readonly step: StepRef,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StepError";
  }
}
