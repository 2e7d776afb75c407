// Produces a layer's tar bytes from a directory, synchronously, chunk by chunk.
//
// Throughput (20k-file layers) decides the shape: per file, Node's async fs costs a threadpool
// round trip for each of lstat/open/read/close and a fresh ArrayBuffer per file content, which
// profiled at ~100 µs per file. Synchronous calls cost ~20 µs per file, and contents are read
// straight into 1 MiB output chunks (no per-file buffers, no copies). Each next() call does at
// most about one chunk of work, so the event loop is blocked only briefly; tar-chunks.ts runs
// the producer in a worker thread when it can, so reading overlaps hashing on the main thread.
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import { OciError } from "../errors.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from "../tar/header.js";
import { headersFor, WHITEOUT_PREFIX, type WalkItem } from "./entry-headers.js";
import type { LayerSource } from "./source.js";
import { readXattrs, type XattrMap } from "./xattr.js";

export const CHUNK_SIZE = 1 << 20;
const MAX_POOL = 16;
const MAX_AHEAD = 100_000;

/** Options for producing a layer tar. */
export interface TarProducerOptions {
  /** Clamp every mtime to at most this (seconds since the epoch), for reproducible layers. */
  sourceDateEpoch?: number;
}

/** Spare chunk memory, reused by producers. */
export type ChunkPool = Buffer[];

/**
 * Returns a chunk's memory to `pool`. Only for memory nothing references any more. Fresh
 * memory costs a page fault per 4 KiB when first written, which measured at 3× the cost of
 * reading the files themselves on a VM, so reuse is what makes the throughput target.
 */
export function recycleChunk(pool: ChunkPool, buf: ArrayBuffer | Buffer): void {
  const ab = Buffer.isBuffer(buf) ? (buf.byteOffset === 0 ? buf.buffer : undefined) : buf;
  if (ab instanceof ArrayBuffer && ab.byteLength === CHUNK_SIZE && pool.length < MAX_POOL) pool.push(Buffer.from(ab));
}

interface Frame {
  rel: string;
  abs: string;
  names: string[];
  i: number;
}

/** readdir decodes non-UTF-8 names lossily; a layer entry with such a name would name another file. */
function refuseNonUtf8(absDir: string): void {
  for (const raw of readdirSync(absDir, { encoding: "buffer" })) {
    if (!Buffer.from(raw.toString("utf8")).equals(raw)) {
      throw new OciError("UNSUPPORTED", `cannot add ${JSON.stringify(`${absDir}/${raw.toString("utf8")}`)} to a layer: its name is not valid UTF-8.`);
    }
  }
}

/**
 * A directory's names in the order their tar entries sort: byte order of the UTF-8 entry name,
 * where a directory's name carries its trailing "/" and a whiteout (overlay upper, char device
 * 0/0) is named ".wh.<name>". Walking depth-first in this order yields an archive sorted by
 * entry name with every directory before its contents (the opaque marker, placed right after
 * its directory as the OCI spec asks, is the one exception).
 */
function sortedNames(absDir: string, overlay: boolean): string[] {
  const entries = readdirSync(absDir, { withFileTypes: true });
  if (entries.some((e) => e.name.includes("\ufffd"))) refuseNonUtf8(absDir);
  const keyed = entries.map((e) => {
    let key = e.name;
    if (e.isDirectory()) key = `${e.name}/`;
    else if (overlay && e.isCharacterDevice() && lstatSync(`${absDir}/${e.name}`).rdev === 0) key = `${WHITEOUT_PREFIX}${e.name}`;
    return { name: e.name, key };
  });
  if (keyed.every((k) => !/[\ud800-\uffff]/.test(k.key))) keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  else keyed.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  return keyed.map((k) => k.name);
}

export class TarProducer {
  private readonly stack: Frame[];
  private readonly firstPath = new Map<string, string>();
  private readonly ready: Buffer[] = [];
  private chunk: Buffer;
  private used = 0;
  private file: { fd: number; abs: string; remaining: number; pad: number } | undefined;
  private pendingHeaders: TarHeader[] = [];
  private pendingItem: WalkItem | undefined;
  private finished = false;
  /** Entries walked ahead while getfattr runs (it takes about as long as the walk itself). */
  private readonly ahead: WalkItem[] = [];
  private aheadPos = 0;
  private xattrs: XattrMap = new Map();

  private constructor(
    private readonly source: LayerSource,
    private readonly opts: TarProducerOptions,
    /** Chunks handed back by the consumer (see recycleChunk), shared by producers of a thread. */
    private readonly pool: ChunkPool,
  ) {
    this.stack = [{ rel: "", abs: source.dir, names: sortedNames(source.dir, source.kind === "overlay-upper"), i: 0 }];
    this.chunk = this.newChunk();
  }

  private newChunk(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
  }

  /** Checks the source and reads its extended attributes (one getfattr process, unless given). */
  static async create(source: LayerSource, opts: TarProducerOptions, pool: ChunkPool): Promise<TarProducer> {
    let st: Stats;
    try {
      st = lstatSync(source.dir);
    } catch (err) {
      throw new OciError("NOT_FOUND", `layer source directory ${source.dir} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    if (!st.isDirectory()) throw new OciError("INVALID_FORMAT", `layer source ${source.dir} is not a directory.`);
    const p = new TarProducer(source, opts, pool);
    if (source.xattrs) {
      p.xattrs = source.xattrs;
      return p;
    }
    let xattrs: XattrMap | undefined;
    let failure: unknown;
    const reading = readXattrs(source.dir).then((x) => (xattrs = x), (e: unknown) => (failure = e ?? new Error("getfattr failed")));
    // Walk ahead (bounded) in slices while getfattr runs in its own process.
    while (xattrs === undefined && failure === undefined && p.ahead.length < MAX_AHEAD) {
      let item: WalkItem | undefined;
      for (let i = 0; i < 256 && (item = p.walk()); i++) p.ahead.push(item);
      if (!item) break;
      await new Promise((r) => setImmediate(r));
    }
    await reading;
    if (failure !== undefined) throw failure;
    p.xattrs = xattrs!;
    return p;
  }

  /** The next chunk of tar bytes, or null after the end-of-archive marker has been returned. */
  next(): Buffer | null {
    while (this.ready.length === 0 && !this.finished) this.step();
    return this.ready.shift() ?? null;
  }

  /** Releases the open file, if any (when the consumer gives up early). */
  close(): void {
    if (this.file) closeSync(this.file.fd);
    this.file = undefined;
  }

  private put(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(b.length - off, CHUNK_SIZE - this.used);
      b.copy(this.chunk, this.used, off, off + n);
      this.used += n;
      off += n;
      if (this.used === CHUNK_SIZE) this.emit();
    }
  }

  private emit(): void {
    if (this.used === 0) return;
    this.ready.push(this.used === CHUNK_SIZE ? this.chunk : this.chunk.subarray(0, this.used));
    this.chunk = this.newChunk();
    this.used = 0;
  }

  /** One unit of work: copy file content up to the end of the current chunk, or start the next entry. */
  private step(): void {
    if (this.file) return this.copyFile();
    if (this.pendingHeaders.length > 0) return this.startHeader(this.pendingHeaders.shift()!);
    const item = this.nextItem();
    if (!item) {
      this.put(END_OF_ARCHIVE);
      this.emit();
      this.finished = true;
      return;
    }
    this.pendingItem = item;
    this.pendingHeaders = headersFor(item, this.source, this.xattrs, this.opts.sourceDateEpoch);
  }

  private startHeader(h: TarHeader): void {
    this.put(encodeHeader(h));
    if (h.type !== "file" || h.size === 0) return;
    const abs = this.pendingItem!.abs;
    this.file = { fd: openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW), abs, remaining: h.size, pad: padding(h.size) };
  }

  private copyFile(): void {
    const f = this.file!;
    while (f.remaining > 0) {
      const want = Math.min(f.remaining, CHUNK_SIZE - this.used);
      const n = readSync(f.fd, this.chunk, this.used, want, null);
      if (n === 0) {
        this.close();
        throw new OciError("INVALID_FORMAT", `${f.abs} changed while its layer was being written (it is shorter than when it was listed); nothing may modify a layer's source while it is archived.`);
      }
      this.used += n;
      f.remaining -= n;
      if (this.used === CHUNK_SIZE) {
        this.emit();
        return; // hand the full chunk out before reading more
      }
    }
    this.close();
    if (f.pad > 0) this.put(END_OF_ARCHIVE.subarray(0, f.pad));
  }

  private nextItem(): WalkItem | undefined {
    if (this.aheadPos < this.ahead.length) {
      const item = this.ahead[this.aheadPos]!;
      this.ahead[this.aheadPos++] = undefined as unknown as WalkItem;
      if (this.aheadPos === this.ahead.length) {
        this.ahead.length = 0;
        this.aheadPos = 0;
      }
      return item;
    }
    return this.walk();
  }

  /** The next entry in walk order (depth first, names in byte order). */
  private walk(): WalkItem | undefined {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) return undefined;
      if (top.i >= top.names.length) {
        this.stack.pop();
        continue;
      }
      const name = top.names[top.i++]!;
      const path = top.rel === "" ? name : `${top.rel}/${name}`;
      const abs = `${top.abs}/${name}`;
      const stat = lstatSync(abs);
      const item: WalkItem = { path, abs, stat };
      if (stat.isSymbolicLink()) item.linkTarget = readlinkSync(abs);
      else if (stat.isDirectory()) this.stack.push({ rel: path, abs, names: sortedNames(abs, this.source.kind === "overlay-upper"), i: 0 });
      const whiteout = this.source.kind === "overlay-upper" && stat.isCharacterDevice() && stat.rdev === 0;
      if (!stat.isDirectory() && stat.nlink > 1 && !whiteout) {
        const big = lstatSync(abs, { bigint: true }); // exact inode numbers
        const key = `${big.dev}:${big.ino}`;
        const first = this.firstPath.get(key);
        if (first === undefined) this.firstPath.set(key, path);
        else item.linkTo = first;
      }
      return item;
    }
  }
}
