// Turns a layer source directory into deterministic tar bytes.
//
// Throughput matters (20k-file layers): a background producer walks the tree and starts
// reading small files ahead (bounded by entries and bytes), while the consumer encodes
// headers and hands out ~256 KiB chunks, so file I/O on libuv's threads overlaps hashing and
// compression on the main thread. Large files are streamed in 1 MiB reads, never buffered.
import { close, constants, lstat, open, read } from "node:fs";
import { promisify } from "node:util";
import { OciError } from "../errors.js";
import { BoundedQueue } from "../util/bounded-queue.js";
import { encodeHeader, END_OF_ARCHIVE, padding, type TarHeader } from "../tar/header.js";
import { walkTree, type WalkEntry } from "./walk.js";
import { readXattrs, type XattrMap } from "./xattr.js";
import type { LayerSource } from "./source.js";

const openP = promisify(open);
const closeP = promisify(close);
const lstatP = promisify(lstat);
const readP = (fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> =>
  new Promise((res, rej) => read(fd, buf, off, len, pos, (err, n) => (err ? rej(err) : res(n))));

const SMALL_FILE = 1 << 20; // read whole, ahead of time
const LARGE_CHUNK = 1 << 20;
const AHEAD_ENTRIES = 256;
const AHEAD_BYTES = 32 << 20;
const OUT_CHUNK = 256 << 10;

export const OPAQUE_MARKER = ".wh..wh..opq";
export const WHITEOUT_PREFIX = ".wh.";

interface Item {
  e: WalkEntry;
  /** Archive path of the first occurrence when this entry is a later hardlink. */
  linkTo?: string;
  content?: Promise<Buffer>;
}

/** Options for writing a layer tar. */
export interface TarWriteOptions {
  /** Clamp every mtime to at most this (seconds since the epoch), for reproducible layers. */
  sourceDateEpoch?: number;
}

/** Splits a Linux dev_t into major/minor (glibc's encoding, safe beyond 32 bits). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const lo = rdev % 0x100000000;
  const hi = Math.floor(rdev / 0x100000000);
  return {
    major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0),
    minor: ((lo & 0xff) | (((lo >>> 20) & 0xfff) << 8) | ((hi & 0xfff) << 20)) >>> 0,
  };
}

/** Attributes that belong to the snapshotter or the host, never to an image layer. */
export function isLayerXattr(name: string): boolean {
  return !name.startsWith("trusted.overlay.") && !name.startsWith("user.overlay.") && name !== "security.selinux";
}

async function readSmall(abs: string, size: number): Promise<Buffer> {
  const fd = await openP(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = await readP(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got < size) throw changed(abs);
    return buf;
  } finally {
    await closeP(fd);
  }
}

function changed(abs: string): OciError {
  return new OciError("INVALID_FORMAT", `${abs} changed while its layer was being written (it is shorter than when it was listed); nothing may modify a layer's source while it is archived.`);
}

async function* readLarge(abs: string, size: number): AsyncGenerator<Buffer> {
  const fd = await openP(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let pos = 0;
    const next = (): Promise<Buffer> | undefined => {
      if (pos >= size) return undefined;
      const len = Math.min(LARGE_CHUNK, size - pos);
      const at = pos;
      pos += len;
      const buf = Buffer.allocUnsafe(len);
      return readP(fd, buf, 0, len, at).then(async (n) => {
        let got = n;
        while (got < len && n > 0) {
          const m = await readP(fd, buf, got, len - got, at + got);
          if (m === 0) break;
          got += m;
        }
        if (got < len) throw changed(abs);
        return buf;
      });
    };
    let pending = next();
    while (pending) {
      const buf = await pending;
      pending = next(); // read the next chunk while this one is hashed and compressed
      yield buf;
    }
  } finally {
    await closeP(fd);
  }
}

function clampTime(mtimeMs: number, epoch: number | undefined): number {
  const s = Math.floor(mtimeMs / 1000);
  return epoch !== undefined && s > epoch ? epoch : s;
}

function layerXattrs(all: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!all) return undefined;
  const out = new Map<string, Buffer>();
  for (const [k, v] of all) if (isLayerXattr(k)) out.set(k, v);
  return out.size > 0 ? out : undefined;
}

function isOpaque(attrs: Map<string, Buffer> | undefined): boolean {
  const v = attrs?.get("trusted.overlay.opaque") ?? attrs?.get("user.overlay.opaque");
  return v !== undefined && v.toString() === "y";
}

function refuseOverlayFeatures(path: string, attrs: Map<string, Buffer> | undefined): void {
  for (const k of attrs?.keys() ?? []) {
    if (/^(trusted|user)\.overlay\.(redirect|metacopy)$/.test(k)) {
      throw new OciError("UNSUPPORTED", `overlay upper entry ${JSON.stringify(path)} carries ${k}; layers can only be written from upper dirs mounted with redirect_dir=off and metacopy=off.`);
    }
  }
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "" : p.slice(0, i);
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** Builds the header(s) of one entry; an opaque directory yields its marker right after it. */
function headersFor(item: Item, source: LayerSource, xattrs: XattrMap, epoch: number | undefined): TarHeader[] {
  const { e } = item;
  const st = e.stat;
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime: clampTime(st.mtimeMs, epoch) };
  const attrs = xattrs.get(e.path);
  const overlay = source.kind === "overlay-upper";
  if (overlay) refuseOverlayFeatures(e.path, attrs);

  if (item.linkTo !== undefined) return [{ ...base, name: e.path, type: "hardlink", linkname: item.linkTo }];
  if (st.isDirectory()) {
    const dir: TarHeader = { ...base, name: e.path, type: "dir", xattrs: layerXattrs(attrs) };
    if (!overlay || !isOpaque(attrs)) return [dir];
    return [dir, { ...base, mode: 0, name: join(e.path, OPAQUE_MARKER), type: "file" }];
  }
  if (st.isFile()) return [{ ...base, name: e.path, type: "file", size: st.size, xattrs: layerXattrs(attrs) }];
  if (st.isSymbolicLink()) return [{ ...base, name: e.path, type: "symlink", linkname: e.linkTarget!, xattrs: layerXattrs(attrs) }];
  if (st.isCharacterDevice() && overlay && st.rdev === 0) {
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    return [{ ...base, mode: 0, name: join(dirname(e.path), WHITEOUT_PREFIX + name), type: "file" }];
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = splitDev(st.rdev);
    const type = st.isCharacterDevice() ? "char" : "block";
    return [{ ...base, name: e.path, type, devmajor: major, devminor: minor, xattrs: layerXattrs(attrs) }];
  }
  if (st.isFIFO()) return [{ ...base, name: e.path, type: "fifo", xattrs: layerXattrs(attrs) }];
  return []; // sockets are not archived (they are meaningless without their process)
}

/** Walks the source and queues items, starting reads of small files and detecting hardlinks. */
async function produce(source: LayerSource, queue: BoundedQueue<Item>, ahead: { bytes: number }): Promise<void> {
  const firstPath = new Map<string, string>();
  try {
    for await (const e of walkTree(source.dir)) {
      if (queue.abandoned) return;
      const st = e.stat;
      const item: Item = { e };
      const whiteout = source.kind === "overlay-upper" && st.isCharacterDevice() && st.rdev === 0;
      if (!st.isDirectory() && st.nlink > 1 && !whiteout && !st.isSocket()) {
        const big = await lstatP(e.abs, { bigint: true }); // exact inode numbers
        const key = `${big.dev}:${big.ino}`;
        const first = firstPath.get(key);
        if (first === undefined) firstPath.set(key, e.path);
        else item.linkTo = first;
      }
      if (st.isFile() && item.linkTo === undefined && st.size > 0 && st.size <= SMALL_FILE) {
        item.content = readSmall(e.abs, st.size);
        item.content.catch(() => {}); // surfaced when consumed
        ahead.bytes += st.size;
      }
      await queue.push(item);
    }
    queue.close();
  } catch (err) {
    queue.close(err);
  }
}

/**
 * Yields the layer tar for `source` in chunks: entries in walk order, with whiteouts and
 * opaque markers translated from overlayfs format when `source.kind` is "overlay-upper",
 * followed by the end-of-archive marker.
 */
export async function* layerTarChunks(source: LayerSource, opts: TarWriteOptions = {}): AsyncGenerator<Buffer> {
  const epoch = opts.sourceDateEpoch;
  const xattrsP = readXattrs(source.dir);
  xattrsP.catch(() => {}); // awaited below
  const ahead = { bytes: 0 };
  const queue = new BoundedQueue<Item>((n) => n < AHEAD_ENTRIES && ahead.bytes < AHEAD_BYTES);
  void produce(source, queue, ahead);
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const add = (b: Buffer): void => {
    batch.push(b);
    batchBytes += b.length;
  };
  const take = (): Buffer => {
    const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    return out;
  };
  try {
    let xattrs: XattrMap | undefined;
    for (;;) {
      const item = await queue.shift();
      if (!item) break;
      xattrs ??= await xattrsP;
      for (const h of headersFor(item, source, xattrs, epoch)) {
        add(encodeHeader(h));
        if (h.type !== "file" || h.size === 0) continue;
        if (item.content) {
          const data = await item.content;
          ahead.bytes -= h.size;
          add(data);
        } else {
          if (batchBytes > 0) yield take();
          for await (const chunk of readLarge(item.e.abs, h.size)) yield chunk;
        }
        const pad = padding(h.size);
        if (pad > 0) add(END_OF_ARCHIVE.subarray(0, pad));
        if (batchBytes >= OUT_CHUNK) yield take();
      }
      if (batchBytes >= OUT_CHUNK) yield take();
    }
    add(END_OF_ARCHIVE);
    yield take();
  } finally {
    queue.abandon();
  }
}
