// Digest helpers: validation, hashing while streaming (one pass over the bytes).
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { OciError } from "./errors.js";
import type { Digest } from "./types.js";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True if `s` is a digest tbuild accepts (`sha256:` + 64 lower-case hex digits). */
export function isDigest(s: unknown): s is Digest {
  return typeof s === "string" && DIGEST_RE.test(s);
}

/** Returns `s` as a Digest or throws a clear error naming `what` it was meant to be. */
export function parseDigest(s: unknown, what = "digest"): Digest {
  if (isDigest(s)) return s;
  if (typeof s === "string" && /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(s)) {
    throw new OciError("UNSUPPORTED", `${what} ${JSON.stringify(s)} uses an unsupported algorithm; only sha256 is supported.`);
  }
  throw new OciError("INVALID_FORMAT", `${what} ${JSON.stringify(s)} is not a valid digest (expected sha256:<64 hex digits>).`);
}

/** sha256 digest of a buffer or string. */
export function sha256(data: Buffer | Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The 64 hex digits of a digest (its file name under blobs/sha256/). */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/**
 * A pass-through stream that hashes and counts the bytes flowing through it. After the
 * stream has finished, `digest()` and `size` describe exactly the bytes that passed.
 */
export class DigestTap extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private result: Digest | undefined;
  size = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  /** The digest of everything that passed; only valid once the stream has ended. */
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest("hex")}`;
    return this.result;
  }
}

/** Incremental sha256 + byte count for code that handles chunks itself. */
export class Hasher {
  private readonly hash: Hash = createHash("sha256");
  private result: Digest | undefined;
  size = 0;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest("hex")}`;
    return this.result;
  }
}

/**
 * Throws DIGEST_MISMATCH / SIZE_MISMATCH when streamed content does not match what it was
 * announced as. `what` names the content ("layer sha256:… of docker.io/library/alpine").
 */
export function verifyContent(
  what: string,
  actual: { digest: Digest; size: number },
  expected: { digest?: Digest; size?: number },
): void {
  if (expected.size !== undefined && actual.size !== expected.size) {
    const code = actual.size < expected.size ? "TRUNCATED" : "SIZE_MISMATCH";
    throw new OciError(code, `${what}: expected ${expected.size} bytes but got ${actual.size}${actual.size < expected.size ? " (truncated)" : ""}.`);
  }
  if (expected.digest !== undefined && actual.digest !== expected.digest) {
    throw new OciError("DIGEST_MISMATCH", `${what}: content digest ${actual.digest} does not match the expected ${expected.digest}; the data is corrupt, truncated or was tampered with.`);
  }
}
