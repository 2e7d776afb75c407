// Errors a build reports to its caller. Each carries what a user needs to act: the step,
// its place in the Dockerfile and, for a failed command, its exit code and last output.
import type { BuildOptions, StepRef } from "../api-types.js";

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

/**
 * Any other failure of a step (a missing COPY source, a bad --chown user, …), with its
 * location. `cause` holds the underlying error: a `FileOpError` (with a `code`) for COPY,
 * ADD and WORKDIR, a `SandboxError` when a RUN could not be started, an `OciError` or
 * `CacheError` for a base image that could not be pulled or read.
 */
export class StepError extends Error {
  /** The word of the instruction the error is about (a missing COPY source), when known. */
  readonly location?: { file: string; line: number; column: number };
  constructor(
    readonly step: StepRef,
    message: string,
    options?: { cause?: unknown; location?: { file: string; line: number; column: number } },
  ) {
    super(message, options);
    this.name = "StepError";
    if (options?.location) this.location = options.location;
  }
}

/**
 * The build was cancelled through `BuildOptions.signal`. `cause` is the signal's reason, so
 * a timeout (`AbortSignal.timeout`, a "TimeoutError") can be told from a user's cancel.
 */
export class BuildAbortedError extends Error {
  constructor(reason?: unknown) {
    super("the build was cancelled", reason === undefined ? undefined : { cause: reason });
    this.name = "BuildAbortedError";
  }
}

/**
 * A `BuildOptions` value the build cannot use: `option` names it (`target`, `platform`, …).
 * `code` is "ERR_BAD_OPTION".
 */
export class BuildOptionError extends Error {
  readonly code = "ERR_BAD_OPTION";
  /**
   * Present when the option was checked against the Dockerfile (a `target` no stage has):
   * the message with the Dockerfile excerpt, as `DockerfileSyntaxError.format()` gives it.
   */
  readonly format?: () => string;

  constructor(
    readonly option: keyof BuildOptions,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BuildOptionError";
    const cause = options?.cause as { format?: () => string } | undefined;
    if (typeof cause?.format === "function") this.format = () => cause.format!();
  }
}

/**
 * The Dockerfile's build checks reported warnings and it sets `# check=error=true`.
 * The warnings were emitted as `warning` events before. `code` is "ERR_BUILD_CHECKS".
 */
export class BuildCheckError extends Error {
  readonly code = "ERR_BUILD_CHECKS";
  constructor(readonly warnings: readonly { message: string; line?: number; rule?: string }[]) {
    super(`the Dockerfile has ${warnings.length} build check warning(s) and # check=error=true is set`);
    this.name = "BuildCheckError";
  }
}
