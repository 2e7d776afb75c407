// Where COPY/ADD read from, behind one interface: the build context (as indexed by
// @tbuild/cache, so .dockerignore'd files do not exist) or the rootfs of another stage or
// image (COPY --from). Paths are container-style: absolute, "/" being the source root.
import { constants } from "node:fs";
import { lstat, open, type FileHandle } from "node:fs/promises";
import { cleanPath, sortNames } from "../fs/container-path.js";
import type { LayeredView } from "../fs/layered-view.js";
import { resolveInRoot } from "../fs/resolve-symlinks.js";
import type { EntryType, ViewStat } from "../fs/view-types.js";
import type { Xattrs } from "../fs/xattr.js";
import type { ContextEntry, ContextIndex } from "./context-index.js";
import { FileOpError } from "./errors.js";

export interface SourceEntry {
  /** Clean absolute path inside the source root. */
  path: string;
  type: EntryType;
  /** Permission and set-id/sticky bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  linkTarget?: string;
  rdev: number;
  /** The host file holding the content. */
  hostPath: string;
  /** Entries with the same key are hard links to one inode. */
  inode: string;
  /** The layer holding it (rootfs views only). */
  layer?: number;
}

export interface SourceTree {
  /** For messages: "build context", "stage builder" … */
  readonly description: string;
  readonly kind: "context" | "view";
  lstat(path: string): Promise<SourceEntry | undefined>;
  /** Child names of a directory, in byte order. */
  readdir(path: string): Promise<string[]>;
  /** Follows symlinks inside the source root (the last component too if `followFinal`). */
  resolve(path: string, followFinal: boolean): Promise<string>;
  /** Where a copy worker reads a regular file, and the inode it must still have (build context). */
  fileSource(entry: SourceEntry): { src: string; expectInode?: string };
  /** Opens a regular file for reading (for the build context: checked to still be the indexed file). */
  openFile(entry: SourceEntry): Promise<FileHandle>;
  /** Extended attributes to carry over (none for the build context). */
  xattrs(entry: SourceEntry): Promise<Xattrs | undefined>;
}

function toRel(p: string): string {
  return p === "/" ? "" : p.slice(1);
}

/** Children lists derived once per index object. */
const childrenCache = new WeakMap<ContextIndex, Map<string, string[]>>();

function contextChildren(index: ContextIndex): Map<string, string[]> {
  let kids = childrenCache.get(index);
  if (kids) return kids;
  kids = new Map();
  for (const rel of index.entries().keys()) {
    const clean = cleanPath(rel);
    if (clean === "/") continue;
    const slash = clean.lastIndexOf("/");
    const parent = slash === 0 ? "/" : clean.slice(0, slash);
    let list = kids.get(parent);
    if (!list) kids.set(parent, (list = []));
    list.push(clean.slice(slash + 1));
  }
  for (const list of kids.values()) sortNames(list);
  childrenCache.set(index, kids);
  return kids;
}

function contextEntryType(t: ContextEntry["type"]): EntryType | undefined {
  return t === "other" ? undefined : t;
}

/**
 * The build context. Owners read as 0:0 (BuildKit's context transfer resets them); files are
 * opened without following a final symlink and checked against the index's inode, so a file
 * swapped for a link after hashing cannot make the copy read outside the context.
 */
export function contextTree(index: ContextIndex): SourceTree {
  const root = index.root.replace(/\/+$/, "");
  const entries = index.entries();
  const get = (p: string): ContextEntry | undefined => {
    const rel = toRel(p);
    return entries.get(rel) ?? (rel === "" ? index.get("") : undefined);
  };
  let rootEntry: Promise<SourceEntry> | undefined;
  const toEntry = (p: string, e: ContextEntry, type: EntryType): SourceEntry => ({
    path: p,
    type,
    mode: e.mode & 0o7777,
    uid: 0,
    gid: 0,
    size: e.size,
    mtimeNs: e.mtimeNs,
    linkTarget: e.linkTarget,
    rdev: 0,
    hostPath: p === "/" ? root : root + p,
    inode: `${e.dev}:${e.ino}`,
  });
  const tree: SourceTree = {
    description: "build context",
    kind: "context",
    async lstat(path) {
      const p = cleanPath(path);
      const e = get(p);
      if (p === "/" && e === undefined) {
        rootEntry ??= lstat(root, { bigint: true }).then((st) => ({
          path: "/", type: "dir" as const, mode: Number(st.mode) & 0o7777, uid: 0, gid: 0, size: 0,
          mtimeNs: st.mtimeNs, rdev: 0, hostPath: root, inode: `${st.dev}:${st.ino}`,
        }));
        return rootEntry;
      }
      const type = e && contextEntryType(e.type);
      return e && type ? toEntry(p, e, type) : undefined;
    },
    async readdir(path) {
      return contextChildren(index).get(cleanPath(path)) ?? [];
    },
    resolve(path, followFinal) {
      return resolveInRoot(path, async (q) => {
        const e = get(q);
        return e && { isSymlink: e.type === "symlink", linkTarget: e.linkTarget };
      }, followFinal);
    },
    openFile: openChecked,
    fileSource: (entry) => ({ src: entry.hostPath, expectInode: entry.inode }),
    async xattrs() {
      return undefined;
    },
  };
  return tree;
}

async function openChecked(entry: SourceEntry): Promise<FileHandle> {
  let fh;
  try {
    fh = await open(entry.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new FileOpError("CHANGED", `${entry.path.slice(1)} in the build context changed while the build was reading it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  const st = await fh.stat();
  if (!st.isFile() || `${st.dev}:${st.ino}` !== entry.inode) {
    await fh.close();
    throw new FileOpError("CHANGED", `${entry.path.slice(1)} in the build context was replaced while the build was reading it`);
  }
  return fh;
}

/** The rootfs of a stage or image. Owners, modes and attributes are kept as they are. */
export function viewTree(view: LayeredView, name?: string): SourceTree {
  const toEntry = (st: ViewStat): SourceEntry => ({
    path: st.path, type: st.type, mode: st.mode, uid: st.uid, gid: st.gid, size: st.size,
    mtimeNs: st.mtimeNs, linkTarget: st.linkTarget, rdev: st.rdev, hostPath: st.hostPath,
    inode: `${st.dev}:${st.ino}`, layer: st.layer,
  });
  // A walk lists a directory, then looks at each child: answer those from the listing.
  const listed = new Map<string, SourceEntry>();
  return {
    description: name ?? "the source image",
    kind: "view",
    async lstat(path) {
      const clean = cleanPath(path);
      const hit = listed.get(clean);
      if (hit) return hit;
      const st = await view.lstat(clean);
      return st && toEntry(st);
    },
    async readdir(path) {
      const stats = await view.readdirStats(path);
      for (const st of stats) listed.set(st.path, toEntry(st));
      return stats.map((st) => st.path.slice(st.path.lastIndexOf("/") + 1));
    },
    resolve: (path, followFinal) => view.resolve(path, { followFinal }),
    openFile: (entry) => open(entry.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW),
    fileSource: (entry) => ({ src: entry.hostPath }),
    async xattrs(entry) {
      const attrs = entry.layer === undefined ? await view.xattrs(entry.path) : await view.xattrsIn(entry.layer, entry.path);
      return attrs.size > 0 ? attrs : undefined;
    },
  };
}
