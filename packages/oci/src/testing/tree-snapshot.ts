// A comparable description of a directory tree, for tests: two trees are equal for our
// purposes when their snapshots are deep-equal. Not part of the public API.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { readXattrs } from "../layer/xattr.js";

export interface TreeRecord {
  path: string;
  type: "dir" | "file" | "symlink" | "char" | "block" | "fifo" | "socket";
  mode: string;
  uid: number;
  gid: number;
  mtime?: number;
  size?: number;
  sha256?: string;
  link?: string;
  rdev?: number;
  /** For hardlinked files: the first path (in walk order) sharing the inode. */
  sameAs?: string;
  xattrs?: Record<string, string>;
}

export interface SnapshotOptions {
  /** Include mtimes (whole seconds); default true. */
  mtimes?: boolean;
  /** Include directory mtimes; default same as `mtimes`. */
  dirMtimes?: boolean;
  /** Paths (relative) to leave out. */
  exclude?: (path: string) => boolean;
}

/** Walks `root` (not following symlinks) and describes every entry below it. */
export async function snapshotTree(root: string, opts: SnapshotOptions = {}): Promise<TreeRecord[]> {
  const xattrs = await readXattrs(root);
  const out: TreeRecord[] = [];
  const inodes = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel === "" ? root : join(root, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      if (opts.exclude?.(path)) continue;
      const abs = join(root, path);
      const st = lstatSync(abs);
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink"
        : st.isCharacterDevice() ? "char" : st.isBlockDevice() ? "block" : st.isFIFO() ? "fifo" : "socket";
      const r: TreeRecord = { path, type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid };
      const withTime = type === "dir" ? (opts.dirMtimes ?? opts.mtimes ?? true) : (opts.mtimes ?? true);
      if (withTime && type !== "symlink") r.mtime = Math.floor(st.mtimeMs / 1000);
      if (type === "symlink" && withTime) r.mtime = Math.floor(st.mtimeMs / 1000);
      if (type === "file") {
        r.size = st.size;
        r.sha256 = createHash("sha256").update(readFileSync(abs)).digest("hex");
      }
      if (type === "symlink") r.link = readlinkSync(abs);
      if (type === "char" || type === "block") r.rdev = st.rdev;
      if (type !== "dir" && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first === undefined) inodes.set(key, path);
        else r.sameAs = first;
      }
      const xa = xattrs.get(path);
      if (xa && xa.size > 0) r.xattrs = Object.fromEntries([...xa].map(([k, v]) => [k, v.toString("hex")]).sort());
      out.push(r);
      if (type === "dir") walk(path);
    }
  };
  walk("");
  return out;
}
