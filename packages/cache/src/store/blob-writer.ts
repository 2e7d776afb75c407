// Writing a blob: stream into a temp file under <root>/tmp while hashing, then fsync
// (unless the store is on a RAM filesystem), check the digest, and rename into blobs/sha256/. Readers never see a partial blob,
// and a blob whose bytes do not match its name never enters the store.
import { createHash, type Hash } from "node:crypto";
import { promises as fsp, constants as C } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import type { Digest } from "@tbuild/oci";
import { DigestMismatchError } from "../errors.js";
import { digestHex } from "../util/digest.js";
import { fsyncDir, tempName } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

/** What a committed blob is: its digest and size in bytes. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What the caller expects a blob to be; a mismatch fails the commit. */
export interface ExpectedBlob {
  digest?: Digest;
  size?: number;
}

/** A temp file being filled with blob content. */
export interface CommitOptions {
  /**
   * Called with the digest once the content is complete, before the blob appears: the
   * place to lease it (pending), so that a concurrent prune cannot take it before use.
   */
  beforeRename?: (digest: Digest) => Promise<unknown>;
}

/** A full disk or quota names the store, so the user knows which disk to free. */
export function diskError(e: unknown, root: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return e;
  const what = code === "ENOSPC" ? "no space left on device" : "disk quota exceeded";
  return Object.assign(new Error(`writing a blob into the store at ${root}: ${what}`, { cause: e }), { code });
}

export class TempBlob {
  #hash: Hash = createHash("sha256");
  #size = 0;
  #done = false;
  private constructor(
    private readonly layout: Layout,
    readonly tmpPath: string,
    private readonly fh: fsp.FileHandle,
    private readonly durable: boolean,
  ) {}

  /** `durable`: fsync the blob and its directory on commit (false on a RAM filesystem). */
  static async create(layout: Layout, durable = true): Promise<TempBlob> {
    const tmpPath = path.join(layout.tmpDir, tempName("blob"));
    const fh = await fsp.open(tmpPath, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o644);
    return new TempBlob(layout, tmpPath, fh, durable);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends bytes (the whole buffer, looping over short writes). */
  async append(chunk: Uint8Array): Promise<void> {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    let off = 0;
    try {
      while (off < chunk.length) {
        const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    } catch (e) {
      throw diskError(e, this.layout.root);
    }
  }

  /**
   * Finishes the blob: fsync, verify against `expected`, rename into place, fsync the
   * directory. If a blob with the same digest is already there it is replaced by ours
   * (same bytes), which also refreshes its age for the gc grace period.
   */
  async commit(expected: ExpectedBlob = {}, opts: CommitOptions = {}): Promise<BlobInfo> {
    if (this.#done) throw new Error("blob already committed or aborted");
    this.#done = true;
    const digest: Digest = `sha256:${this.#hash.digest("hex")}`;
    try {
      if (this.durable) {
        await this.fh.sync().catch((e) => {
          throw diskError(e, this.layout.root);
        });
      }
      await this.fh.close();
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new DigestMismatchError(expected.digest, digest, "blob content");
      }
      if (expected.size !== undefined && expected.size !== this.#size) {
        throw new DigestMismatchError(`${expected.size} bytes`, `${this.#size} bytes`, `size of blob ${digest}`);
      }
      digestHex(digest);
      await opts.beforeRename?.(digest);
      await fsp.rename(this.tmpPath, this.layout.blob(digest));
    } catch (e) {
      await this.fh.close().catch(() => undefined);
      await fsp.rm(this.tmpPath, { force: true });
      throw e;
    }
    if (this.durable) await fsyncDir(this.layout.blobsDir);
    return { digest, size: this.#size };
  }

  /** Drops the temp file. Safe to call after a failed commit. */
  async abort(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.fh.close().catch(() => undefined);
    }
    await fsp.rm(this.tmpPath, { force: true });
  }
}

/**
 * A Writable that stores what is written as a blob: pipe a layer tar into it, then
 * `await writer.commit()`. `abort()` (or destroying the stream) discards it.
 */
export class BlobWriter extends Writable {
  private constructor(private readonly temp: TempBlob) {
    super({ highWaterMark: 1 << 20 });
  }

  static async create(layout: Layout, durable = true): Promise<BlobWriter> {
    return new BlobWriter(await TempBlob.create(layout, durable));
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.temp.size;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.temp.append(chunk).then(() => cb(), cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    this.temp.append(Buffer.concat(chunks.map((c) => c.chunk))).then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (err) this.temp.abort().then(() => cb(err), () => cb(err));
    else cb(null);
  }

  /** Ends the stream (if not yet ended) and commits the blob. */
  async commit(expected?: ExpectedBlob, opts?: CommitOptions): Promise<BlobInfo> {
    if (this.errored) throw this.errored;
    if (!this.writableFinished) {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        this.once("error", onError);
        const done = () => {
          this.off("error", onError);
          resolve();
        };
        if (this.writableEnded) this.once("finish", done);
        else this.end(done);
      });
    }
    try {
      return await this.temp.commit(expected, opts);
    } catch (e) {
      await this.temp.abort();
      throw e;
    }
  }

  /** Discards everything written. */
  async abort(): Promise<void> {
    this.destroy();
    await this.temp.abort();
  }
}
