// The runtime's user-facing error: printed by the CLI as one paragraph, exit 1.

/** A failure the user can act on (no such container, name in use, volume in use …). */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  /** Docker's exit status for the failure when it is a container's (126, 127), else undefined. */
  readonly exitStatus?: number;
  constructor(message: string, opts: { exitStatus?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (opts.exitStatus !== undefined) this.exitStatus = opts.exitStatus;
  }
}
