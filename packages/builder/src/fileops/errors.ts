// Errors of file operations. Messages are for users: they name the instruction's source
// path or flag and say what went wrong in one sentence, BuildKit's wording where it has one.

export type FileOpErrorCode =
  | "NOT_FOUND"       // a source path does not exist (or is excluded by .dockerignore)
  | "NO_SOURCES"      // nothing at all was selected
  | "BAD_DEST"        // the destination cannot take what is copied
  | "BAD_FLAG"        // --chmod/--chown/--checksum … malformed or not allowed here
  | "UNKNOWN_USER"    // a user or group name not found in the image
  | "HTTP"            // a URL source failed
  | "CHECKSUM"        // --checksum did not match
  | "ARCHIVE"         // a tar archive is malformed or tries to escape its destination
  | "CHANGED"         // a source changed while it was read
  | "TOOL"            // a helper program (bzip2, xz, getfattr …) is missing or failed
  | "ABORTED";

export class FileOpError extends Error {
  /** The instruction's source word the error is about (NOT_FOUND), so the error can point at it. */
  readonly source?: string;
  constructor(readonly code: FileOpErrorCode, message: string, options?: { cause?: unknown; source?: string }) {
    super(message, options);
    this.name = "FileOpError";
    if (options?.source !== undefined) this.source = options.source;
  }
}

/** Throws the signal's abort reason as a FileOpError if the operation was cancelled. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: signal.reason });
}
