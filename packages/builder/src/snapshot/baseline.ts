// What a materialised rootfs looked like before the run, for the copy snapshotter's diff.
// Every change to an inode's data or metadata moves its ctime, which userspace cannot set,
// so a file changed during the run iff its ctime is newer than a marker taken after the
// rootfs was made, or its inode is not the one we made (replaced, renamed over). Directory
// ctimes also move when mount stubs come and go, so directories are compared by inode and
// by the metadata the executor restores exactly (mode, owner, mtime) instead.
import { lstatSync, readdirSync, type BigIntStats } from "node:fs";
import { lstat, utimes, writeFile } from "node:fs/promises";
import { Yielder } from "./yield.js";

export interface BaselineEntry {
  ino: bigint;
  isDir: boolean;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  mtimeNs: bigint;
  size: bigint;
  nlink: bigint;
  /** Directories: the names they held. */
  children?: string[];
}

/** Relative path ("" = the root) → entry. */
export type Baseline = Map<string, BaselineEntry>;

function entry(st: BigIntStats, children?: string[]): BaselineEntry {
  return { ino: st.ino, isDir: st.isDirectory(), mode: st.mode, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs, size: st.size, nlink: st.nlink, children };
}

/** Walks `root` and records every entry. */
export async function recordBaseline(root: string): Promise<Baseline> {
  const out: Baseline = new Map();
  const y = new Yielder();
  const visit = async (rel: string, st: BigIntStats): Promise<void> => {
    const dir = rel === "" ? root : `${root}/${rel}`;
    const names = readdirSync(dir);
    out.set(rel, entry(st, names));
    for (const name of names) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const cst = lstatSync(`${root}/${childRel}`, { bigint: true });
      await y.tick();
      if (cst.isDirectory()) await visit(childRel, cst);
      else out.set(childRel, entry(cst));
    }
  };
  await visit("", lstatSync(root, { bigint: true }));
  return out;
}

/**
 * Creates a marker file and waits until the filesystem clock has moved past its ctime, so
 * that every later change gets a strictly newer ctime. Returns the marker's ctime.
 */
export async function ctimeMarker(path: string): Promise<bigint> {
  await writeFile(path, "");
  const marker = (await lstat(path, { bigint: true })).ctimeNs;
  for (let i = 0; i < 1000; i++) {
    const now = new Date();
    await utimes(path, now, now);
    if ((await lstat(path, { bigint: true })).ctimeNs > marker) return marker;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`the clock of the filesystem holding ${path} does not advance`);
}
