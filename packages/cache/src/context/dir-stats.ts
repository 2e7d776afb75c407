// One directory of a build context, listed with the lstat of each entry: by the addon
// native/dir-stats.node in one call per directory when it was built (`npm run build`; it says
// why it is C), else by Node's readdirSync and one lstatSync per entry asked for. Both give the
// same facts, so the stat cache's fingerprints (file-hasher.ts) do not depend on which ran.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, type BigIntStats } from "node:fs";
import { constants as osConstants } from "node:os";
import { loadNativeAddon } from "@tbuild/oci";
import { fingerprintFrom, fingerprintOf } from "./file-hasher.js";

/** What the walk keeps of an entry's lstat. */
export interface EntryStat {
  /** st_mode including the file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  ino: number;
  mtimeNs: bigint;
  /** The stat cache's fingerprint (file-hasher.ts `fingerprintOf`). */
  fingerprint: string;
}

/** A directory's entries; `mode` and `stat` throw the entry's lstat error (with its errno `code`). */
export interface DirListing {
  readonly names: readonly string[];
  /** st_mode alone: what the walk needs of most entries. */
  mode(i: number): number;
  stat(i: number): EntryStat;
  /**
   * A hash of every entry's name and stat as listed (the excluded ones' too): the same for an
   * unchanged directory listed the same way (digest-memo.ts).
   */
  state(): string;
}

/** A time in ns as its decimal string, from seconds and nanoseconds (no BigInt for positive seconds). */
function nsString(sec: number, nsec: number): string {
  return sec > 0 ? `${sec}${String(nsec).padStart(9, "0")}` : String(BigInt(sec) * 1_000_000_000n + BigInt(nsec));
}

/** An EntryStat from Node's bigint lstat (the fallback lister, and the context root). */
export function entryStatOf(st: BigIntStats): EntryStat {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    dev: Number(st.dev),
    ino: Number(st.ino),
    mtimeNs: st.mtimeNs,
    fingerprint: fingerprintOf(st),
  };
}

interface Addon {
  list(dir: string): Buffer;
}

const addon = loadNativeAddon<Addon>("dir-stats.node", import.meta.url);

/** A record's fixed part; its fields' offsets are those native/dir-stats.c writes. */
const HEAD = 66;

/** An lstat error as Node's fs would throw it: `code` the errno's name. */
function errnoError(errno: number, dir: string, name: string): NodeJS.ErrnoException {
  const code = Object.keys(osConstants.errno).find((k) => osConstants.errno[k as keyof typeof osConstants.errno] === errno) ?? "EIO";
  const err: NodeJS.ErrnoException = new Error(`${code}: cannot lstat '${dir}/${name}'`);
  err.code = code;
  err.errno = -errno;
  return err;
}

// 64-bit fields as two halves: exact below 2^53, and no BigInt per field.
const u64 = (buf: Buffer, at: number) => buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
const i64 = (buf: Buffer, at: number) => buf.readUInt32LE(at) + buf.readInt32LE(at + 4) * 0x1_0000_0000;

/** The addon's records for `dir`, decoded. */
function listNative(a: Addon, dir: string): DirListing {
  const buf = a.list(dir);
  const names: string[] = [];
  const offsets: number[] = [];
  for (let p = 0; p < buf.length; ) {
    const n = buf.readUInt16LE(p + 64);
    offsets.push(p);
    names.push(buf.toString("utf8", p + HEAD, p + HEAD + n));
    p += HEAD + n;
  }
  const check = (i: number) => {
    const err = buf.readUInt32LE(offsets[i]!);
    if (err !== 0) throw errnoError(err, dir, names[i]!);
    return offsets[i]!;
  };
  return {
    names,
    mode: (i) => buf.readUInt32LE(check(i) + 4),
    state: () => createHash("sha256").update(buf).digest("hex"),
    stat(i) {
      const p = check(i);
      const dev = u64(buf, p + 24);
      const ino = u64(buf, p + 32);
      const size = u64(buf, p + 16);
      const mtimeSec = i64(buf, p + 40);
      const mtimeNsec = buf.readUInt32LE(p + 48);
      const mtime = nsString(mtimeSec, mtimeNsec);
      return {
        mode: buf.readUInt32LE(p + 4),
        uid: buf.readUInt32LE(p + 8),
        gid: buf.readUInt32LE(p + 12),
        size,
        dev,
        ino,
        mtimeNs: BigInt(mtime),
        // The same string as fingerprintOf's for Node's stat, whichever lister ran.
        fingerprint: fingerprintFrom(dev, ino, size, mtime, nsString(i64(buf, p + 56), buf.readUInt32LE(p + 52))),
      };
    },
  };
}

/** Node's readdir, and an lstat per entry asked for (once). */
function listNode(dir: string): DirListing {
  const names = readdirSync(dir);
  const stats = new Map<number, EntryStat | Error>();
  const stat = (i: number): EntryStat => {
    let st = stats.get(i);
    if (st === undefined) {
      try {
        st = entryStatOf(lstatSync(`${dir}/${names[i]}`, { bigint: true }));
      } catch (e) {
        st = e as Error;
      }
      stats.set(i, st);
    }
    if (st instanceof Error) throw st;
    return st;
  };
  return {
    names,
    mode: (i) => stat(i).mode,
    stat,
    state() {
      const h = createHash("sha256");
      names.forEach((name, i) => {
        let record: string;
        try {
          const st = stat(i);
          record = `${st.mode}\0${st.uid}\0${st.gid}\0${st.fingerprint}`;
        } catch (e) {
          record = (e as NodeJS.ErrnoException).code ?? "error";
        }
        h.update(`${name}\0${record}\n`);
      });
      return h.digest("hex");
    },
  };
}

/** Both listers, for the test that they agree; `addon` undefined when it was not built. */
export const listers = { addon: addon && ((dir: string) => listNative(addon, dir)), node: listNode };

/** Lists `dir` (an absolute path): its entries' names and, on demand, their lstat. */
export function listDir(dir: string): DirListing {
  return addon ? listNative(addon, dir) : listNode(dir);
}
