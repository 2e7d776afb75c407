// Error types of @tbuild/cache. Each carries a stable `code` so callers can react
// (re-fetch a corrupt blob, rebuild a missing snapshot) without parsing messages.

/** Base class of every error this package throws on purpose. */
export class CacheError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A blob that was asked for is not in the store. Its code is "NOT_FOUND", the code
 * @tbuild/oci's BlobSource contract uses for "no such blob" (`isMissingBlob`).
 */
export class BlobNotFoundError extends CacheError {
  readonly digest: string;
  constructor(digest: string) {
    super("NOT_FOUND", `blob ${digest} is not in the store`);
    this.digest = digest;
  }
}

/**
 * A blob's bytes on disk no longer hash to its digest (disk corruption, or someone
 * edited the store). The bad file has already been moved out of the store when this
 * is thrown, so a retry re-fetches or rebuilds instead of failing again.
 */
export class BlobCorruptedError extends CacheError {
  readonly digest: string;
  readonly actual: string;
  constructor(digest: string, actual: string, detail = "") {
    super(
      "ERR_BLOB_CORRUPTED",
      `blob ${digest} is corrupted on disk (its content hashes to ${actual}${detail}); ` +
        `it was removed from the store and must be fetched or built again`,
    );
    this.digest = digest;
    this.actual = actual;
  }
}

/** Data given to the store does not match the digest or size the caller expected. */
export class DigestMismatchError extends CacheError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, what = "content") {
    super("ERR_DIGEST_MISMATCH", `${what} does not match: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** The store root is unusable (wrong layout version, not writable, …). */
export class StoreError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_STORE", message, options);
  }
}

/** A problem with the build context: missing directory, unreadable file, path not found. */
export class ContextError extends CacheError {
  readonly path: string | undefined;
  constructor(code: string, message: string, path?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}

/** A `.dockerignore` or `--exclude` pattern that Docker would reject too. */
export class PatternError extends CacheError {
  readonly pattern: string;
  constructor(pattern: string, reason: string, source?: string) {
    super(
      "ERR_BAD_PATTERN",
      `invalid ${source ? `pattern in ${source}` : "exclude pattern"} ${JSON.stringify(pattern)}: ${reason}`,
    );
    this.pattern = pattern;
  }
}
