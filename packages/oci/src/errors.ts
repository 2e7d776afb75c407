// One error class for everything @tbuild/oci reports, with a stable `code` so that
// callers (the builder, the CLI) can react to a kind of failure without parsing text.
// Messages are complete sentences that name the entry, blob or registry involved.

export type OciErrorCode =
  | "UNSAFE_PATH" // a tar entry would land outside the target directory
  | "INVALID_TAR" // malformed or unsupported tar data
  | "TRUNCATED" // a stream ended early
  | "DIGEST_MISMATCH" // content does not hash to the digest it was announced with
  | "SIZE_MISMATCH" // content is not as long as its descriptor says
  | "INVALID_FORMAT" // malformed JSON document, layout or archive
  | "INVALID_REFERENCE" // an image reference that cannot be parsed
  | "NOT_FOUND" // a blob, manifest, tag or platform that does not exist
  | "TOO_LARGE" // a document larger than we accept (manifests over 4 MB)
  | "UNAUTHORIZED" // credentials missing or refused
  | "DENIED" // authenticated but not allowed
  | "REGISTRY" // any other registry/HTTP failure
  | "TIMEOUT" // a request took longer than its timeout
  | "TOOL_FAILED" // an external tool (getfattr, zstd, tar) failed
  | "UNSUPPORTED"; // a valid input we do not handle

/** The error type thrown by @tbuild/oci; `code` classifies it, `message` explains it to a user. */
export class OciError extends Error {
  readonly code: OciErrorCode;
  constructor(code: OciErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OciError";
    this.code = code;
  }
}

/** True if `err` is an OciError (optionally of the given code). */
export function isOciError(err: unknown, code?: OciErrorCode): err is OciError {
  return err instanceof OciError && (code === undefined || err.code === code);
}
