// Errors of the sandbox layer. Messages are complete sentences for users; `code` tells
// the builder what kind of failure it was.

export type SandboxErrorCode =
  /** The command could not be started (not found, not executable, bad format). */
  | "EXEC"
  /** The sandbox could not be set up (mounts, namespaces, a missing host tool, a bad spec). */
  | "SETUP"
  /** A required host tool or kernel feature is missing. */
  | "UNAVAILABLE";

export class SandboxError extends Error {
  constructor(readonly code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SandboxError";
  }
}

/** The error a run rejects with when its AbortSignal fired: the signal's reason if it is an Error. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error(typeof reason === "string" ? reason : "the step was aborted");
  err.name = "AbortError";
  return err;
}
