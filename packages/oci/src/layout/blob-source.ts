// Where writers get blobs from, and how readers hand blobs out: the BlobSource seam. The
// cache store implements it; writers never buffer a blob, they stream from open().
import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { OciError } from "../errors.js";
import type { Digest } from "../types.js";

/** Content-addressed blobs, streamed. Implemented by the cache store and by archive readers. */
export interface BlobSource {
  /** A stream of the blob's bytes. Rejects (OciError NOT_FOUND, or ENOENT) if it is absent. */
  open(digest: Digest): Promise<Readable>;
  /** The blob's length in bytes. Rejects like open() if it is absent. */
  size(digest: Digest): Promise<number>;
}

/** True for the errors a BlobSource uses to say "no such blob". */
export function isMissingBlob(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === "NOT_FOUND" || e?.code === "ENOENT";
}

/**
 * A pass-through that checks, at end of stream, that the bytes hash to `digest` and have
 * `size` bytes (if given); fails the stream with DIGEST_MISMATCH / TRUNCATED / SIZE_MISMATCH
 * otherwise, naming `what`. Counting also stops a stream that runs past `size` early.
 */
export class VerifyStream extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private seen = 0;

  constructor(private readonly digest: Digest, private readonly expectedSize: number | undefined, private readonly what: string) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.expectedSize !== undefined && this.seen > this.expectedSize) {
      cb(new OciError("SIZE_MISMATCH", `${this.what}: more than the expected ${this.expectedSize} bytes.`));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expectedSize !== undefined && this.seen < this.expectedSize) {
      cb(new OciError("TRUNCATED", `${this.what}: got ${this.seen} of ${this.expectedSize} bytes (truncated).`));
      return;
    }
    const got = `sha256:${this.hash.digest("hex")}`;
    if (got !== this.digest) {
      cb(new OciError("DIGEST_MISMATCH", `${this.what}: content digest ${got} does not match the expected ${this.digest}; the data is corrupt or was tampered with.`));
      return;
    }
    cb();
  }
}

/** `source` piped through a VerifyStream; errors of `source` propagate. */
export function verified(source: Readable, digest: Digest, size: number | undefined, what: string): Readable {
  const v = new VerifyStream(digest, size, what);
  source.on("error", (e) => v.destroy(e));
  v.on("close", () => source.destroy());
  return source.pipe(v);
}

/** A BlobSource over in-memory blobs (documents, tests), falling back to `next`. */
export function memoryBlobSource(blobs: Map<Digest, Uint8Array>, next?: BlobSource): BlobSource {
  return {
    async open(digest) {
      const b = blobs.get(digest);
      if (b) return Readable.from([Buffer.from(b)]);
      if (next) return next.open(digest);
      throw new OciError("NOT_FOUND", `blob ${digest} is not available.`);
    },
    async size(digest) {
      const b = blobs.get(digest);
      if (b) return b.length;
      if (next) return next.size(digest);
      throw new OciError("NOT_FOUND", `blob ${digest} is not available.`);
    },
  };
}

/** Reads a whole (small) blob into memory, refusing more than `max` bytes. */
export async function readBlob(source: BlobSource, digest: Digest, what: string, max = 4 * 1024 * 1024): Promise<Buffer> {
  const size = await source.size(digest);
  if (size > max) throw new OciError("TOO_LARGE", `${what} (${digest}) is ${size} bytes, more than the ${max}-byte limit.`);
  const parts: Buffer[] = [];
  for await (const c of verified(await source.open(digest), digest, size, what)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
