// Reading blobs back. Every read can verify: the bytes are hashed as they stream by
// and a mismatch fails the stream at its end, after the bad file has been moved to
// quarantine/ so that nobody is served it again.
import { createHash } from "node:crypto";
import { createReadStream, fstat, promises as fsp } from "node:fs";
import path from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { Digest } from "@tbuild/oci";
import { BlobCorruptedError, BlobNotFoundError } from "../errors.js";
import { digestHex } from "../util/digest.js";
import { errno, tempName } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

export interface OpenBlobOptions {
  /** Hash while streaming and fail at the end on mismatch (default true). */
  verify?: boolean;
}

/**
 * Moves a corrupt blob out of blobs/ — unless the file at the path is no longer the
 * one we read (another process already replaced it with a good copy).
 */
export async function quarantineBlob(layout: Layout, digest: Digest, readIno?: number | bigint): Promise<void> {
  const p = layout.blob(digest);
  try {
    if (readIno !== undefined) {
      const st = await fsp.stat(p, { bigint: true });
      if (st.ino !== BigInt(readIno)) return;
    }
    await fsp.rename(p, path.join(layout.quarantineDir, `${digestHex(digest)}.${tempName("bad")}`));
  } catch (e) {
    if (errno(e) !== "ENOENT") throw e;
  }
}

class VerifyStream extends Transform {
  #hash = createHash("sha256");
  /** Inode of the file being read, once known. */
  ino: Promise<bigint | undefined> = Promise.resolve(undefined);
  constructor(private readonly layout: Layout, private readonly digest: Digest) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const actual = `sha256:${this.#hash.digest("hex")}`;
    if (actual === this.digest) return cb();
    this.ino.then((ino) => quarantineBlob(this.layout, this.digest, ino)).then(
      () => cb(new BlobCorruptedError(this.digest, actual)),
      () => cb(new BlobCorruptedError(this.digest, actual)),
    );
  }
}

/**
 * Opens a blob for reading. Returns at once; a missing blob surfaces as a
 * `BlobNotFoundError` stream error, corruption as a `BlobCorruptedError` at the end.
 */
export function openBlob(layout: Layout, digest: Digest, opts: OpenBlobOptions = {}): Readable {
  const file = layout.blob(digest);
  const src = createReadStream(file, { highWaterMark: 1 << 20 });
  const mapError = (e: Error): Error => (errno(e) === "ENOENT" ? new BlobNotFoundError(digest) : e);
  if (opts.verify === false) {
    const out = new Transform({ transform: (c, _e, cb) => cb(null, c) });
    src.on("error", (e) => out.destroy(mapError(e)));
    return src.pipe(out);
  }
  const v = new VerifyStream(layout, digest);
  src.once("open", (fd: number) => {
    // Remember which inode we read, so a quarantine never hits a fresh good copy.
    v.ino = new Promise((resolve) => fstat(fd, { bigint: true }, (e, st) => resolve(e ? undefined : st.ino)));
  });
  src.on("error", (e) => v.destroy(mapError(e)));
  v.on("close", () => src.destroy());
  return src.pipe(v);
}

/** Reads a whole (small) blob into memory, verified. */
export async function readBlob(layout: Layout, digest: Digest): Promise<Buffer> {
  const file = layout.blob(digest);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, "r");
  } catch (e) {
    if (errno(e) === "ENOENT") throw new BlobNotFoundError(digest);
    throw e;
  }
  let buf: Buffer;
  let ino: bigint;
  try {
    ino = (await fh.stat({ bigint: true })).ino;
    buf = await fh.readFile();
  } finally {
    await fh.close();
  }
  const actual = `sha256:${createHash("sha256").update(buf).digest("hex")}`;
  if (actual !== digest) {
    await quarantineBlob(layout, digest, ino);
    throw new BlobCorruptedError(digest, actual);
  }
  return buf;
}

/**
 * Re-hashes a blob. True when present and intact; false when missing or corrupt (a
 * corrupt blob is quarantined, so the caller's next `hasBlob` is false too).
 */
export async function verifyBlob(layout: Layout, digest: Digest): Promise<boolean> {
  try {
    const s = openBlob(layout, digest, { verify: true });
    for await (const _ of s) void _;
    return true;
  } catch (e) {
    if (e instanceof BlobCorruptedError || e instanceof BlobNotFoundError) return false;
    throw e;
  }
}

/** Size of a stored blob in bytes. */
export async function blobSize(layout: Layout, digest: Digest): Promise<number> {
  try {
    return (await fsp.stat(layout.blob(digest))).size;
  } catch (e) {
    if (errno(e) === "ENOENT") throw new BlobNotFoundError(digest);
    throw e;
  }
}

/** True when the blob file exists (it is complete: blobs appear by rename only). */
export async function hasBlob(layout: Layout, digest: Digest): Promise<boolean> {
  try {
    await fsp.access(layout.blob(digest));
    return true;
  } catch (e) {
    if (errno(e) === "ENOENT") return false;
    throw e;
  }
}
