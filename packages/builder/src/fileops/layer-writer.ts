// Writes the result of a file operation into a fresh, empty layer directory in overlay-upper
// format, the way an overlay mount over the current rootfs would record it: writing below
// a directory that exists only in a lower layer first copies that directory up (mode,
// owner, mtime and xattrs of the lower one), then creates the new entry. Lookups see the
// merged state: what this operation wrote, else the rootfs view (none for COPY --link,
// which writes without looking at the image). Directory mtimes are applied at the end,
// deepest first, because creating entries inside a directory changes its mtime.
import { chmod, copyFile, lchown, link, lutimes, mkdir, rm, symlink, unlink } from "node:fs/promises";
import { cleanPath, parentPath } from "../fs/container-path.js";
import { secureJoin } from "../fs/host-path.js";
import type { LayeredView } from "../fs/layered-view.js";
import { resolveInRoot } from "../fs/resolve-symlinks.js";
import type { EntryType } from "../fs/view-types.js";
import { writeXattrs, type Xattrs } from "../fs/xattr.js";
import { FileOpError } from "./errors.js";
import { execFileAsync } from "../util/exec-file.js";

/** Metadata to give an entry. */
export interface EntryMeta {
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  xattrs?: Xattrs;
}

/** What the merged state holds at a path. */
export interface MergedStat {
  type: EntryType;
  linkTarget?: string;
  /** True if this operation wrote it (or copied it up) into the layer. */
  inLayer: boolean;
}

export interface LayerWriterOptions {
  /** SOURCE_DATE_EPOCH in seconds: every mtime written is clamped to it. */
  sourceDateEpoch?: number;
  /** Time stamp for directories created without a source (BuildKit: now). */
  nowNs?: bigint;
}

const euid = process.geteuid?.() ?? 0;
const egid = process.getegid?.() ?? 0;

function bad(message: string): FileOpError {
  return new FileOpError("BAD_DEST", message);
}

/**
 * A name starting with ".wh." would turn into a whiteout (a deletion) when the layer becomes
 * an OCI tar, silently removing a file of the image; such names cannot be stored.
 */
function checkName(p: string): void {
  if (p.slice(p.lastIndexOf("/") + 1).startsWith(".wh.")) {
    throw new FileOpError("BAD_DEST", `${p}: names starting with ".wh." are reserved for layer whiteouts and cannot be stored in an image layer`);
  }
}

export class LayerWriter {
  /** Entries of the layer dir: container path → type (copied-up directories included). */
  private readonly written = new Map<string, { type: EntryType; linkTarget?: string }>();
  /** Directories this operation created from nothing: the view has nothing below them. */
  private readonly fresh = new Set<string>();
  private readonly inLayer = new Map<string, Promise<void>>();
  private readonly dirTimes = new Map<string, bigint>();
  private readonly setgidDirs = new Set<string>();
  private readonly xattrQueue = new Map<string, Xattrs>();
  /** Paths where an entry of this layer replaces a lower one of another kind (archives only). */
  private readonly shadowed = new Set<string>();
  private readonly epochNs?: bigint;
  readonly nowNs: bigint;
  files = 0;
  bytes = 0;

  constructor(readonly layerDir: string, readonly view: LayeredView | undefined, opts: LayerWriterOptions = {}) {
    this.epochNs = opts.sourceDateEpoch === undefined ? undefined : BigInt(Math.floor(opts.sourceDateEpoch)) * 1_000_000_000n;
    this.nowNs = opts.nowNs ?? BigInt(Date.now()) * 1_000_000n;
  }

  /** Host path of a clean container path inside the layer. */
  host(p: string): string {
    return secureJoin(this.layerDir, p);
  }

  private clamp(ns: bigint): bigint {
    return this.epochNs !== undefined && ns > this.epochNs ? this.epochNs : ns;
  }

  /** The merged state at `p` (not followed). */
  async lstat(p: string): Promise<MergedStat | undefined> {
    const clean = cleanPath(p);
    const w = this.written.get(clean);
    if (w) return { ...w, inLayer: true };
    if (clean === "/") return { type: "dir", inLayer: false };
    if (!this.view || this.fresh.has(parentPath(clean))) return undefined;
    if (this.shadowed.size > 0) {
      for (let q = clean; q !== "/"; q = parentPath(q)) if (this.shadowed.has(q)) return undefined;
    }
    const v = await this.view.lstat(clean);
    return v && { type: v.type, linkTarget: v.linkTarget, inLayer: false };
  }

  /** Resolves symlinks of `p` in the merged state, confined to the rootfs. */
  resolve(p: string, followFinal: boolean): Promise<string> {
    return resolveInRoot(p, async (q) => {
      const st = await this.lstat(q);
      return st && { isSymlink: st.type === "symlink", linkTarget: st.linkTarget };
    }, followFinal);
  }

  /** Makes sure directory `p` (resolved, existing in the merged state) exists in the layer dir, copying it up. */
  ensureInLayer(p: string): Promise<void> {
    if (p === "/" || this.written.has(p)) return Promise.resolve();
    let pending = this.inLayer.get(p);
    if (!pending) {
      pending = this.copyUp(p);
      this.inLayer.set(p, pending);
    }
    return pending;
  }

  private async copyUp(p: string): Promise<void> {
    await this.ensureInLayer(parentPath(p));
    const st = await this.view?.lstat(p);
    if (!st || st.type !== "dir") throw bad(`${p} is not a directory`);
    const host = this.host(p);
    await mkdir(host);
    await lchown(host, st.uid, st.gid);
    await chmod(host, st.mode);
    this.dirTimes.set(p, st.mtimeNs);
    if (st.mode & 0o2000) this.setgidDirs.add(p);
    const attrs = await this.view!.xattrs(p);
    if (attrs.size > 0) this.xattrQueue.set(p, attrs);
    this.written.set(p, { type: "dir" });
  }

  /**
   * mkdir -p of a resolved path: missing directories are created with `meta` (BuildKit: mode
   * 0755 or the octal --chmod, owner --chown or root, mtime now); existing ones are kept.
   * Returns the directories created.
   */
  async mkdirAll(p: string, meta: EntryMeta): Promise<string[]> {
    const clean = cleanPath(p);
    const created: string[] = [];
    let cur = "";
    for (const part of clean.split("/").filter((c) => c !== "")) {
      cur += "/" + part;
      const st = await this.lstat(cur);
      if (st === undefined) {
        await this.createDir(cur, meta);
        created.push(cur);
      } else if (st.type !== "dir") {
        throw bad(`mkdir ${cur}: not a directory`);
      }
    }
    return created;
  }

  private async createDir(p: string, meta: EntryMeta): Promise<void> {
    checkName(p);
    await this.ensureInLayer(parentPath(p));
    const host = this.host(p);
    await mkdir(host);
    await lchown(host, meta.uid, meta.gid);
    await chmod(host, meta.mode);
    this.written.set(p, { type: "dir" });
    this.fresh.add(p);
    this.dirTimes.set(p, meta.mtimeNs);
    if (meta.mode & 0o2000) this.setgidDirs.add(p);
    if (meta.xattrs?.size) this.xattrQueue.set(p, meta.xattrs);
  }

  /**
   * A directory copied from a source: created with `meta` if missing (returns true), else
   * copied up and, when `overwrite`, given `meta` (fsutil overwrites nested directories).
   */
  async copyDir(p: string, meta: EntryMeta, overwrite: boolean): Promise<boolean> {
    const st = await this.lstat(p);
    if (st === undefined) {
      await this.createDir(p, meta);
      return true;
    }
    if (st.type !== "dir") throw bad(`cannot copy to non-directory: ${p}`);
    await this.ensureInLayer(p);
    if (overwrite) {
      const host = this.host(p);
      await lchown(host, meta.uid, meta.gid);
      await chmod(host, meta.mode);
      if (meta.mode & 0o2000) this.setgidDirs.add(p);
      else this.setgidDirs.delete(p);
      this.dirTimes.set(p, meta.mtimeNs);
      if (meta.xattrs?.size) this.xattrQueue.set(p, meta.xattrs);
    }
    return false;
  }

  /** Sets the mtime a directory gets at the end (fsutil restores the top directory's time). */
  setDirTime(p: string, mtimeNs: bigint): void {
    if (this.written.has(p) || p === "/") this.dirTimes.set(p, mtimeNs);
  }

  /** Clears the way for a non-directory at `p`: its parent in the layer, nothing of ours in the way, no directory. */
  private async prepareNonDir(p: string): Promise<void> {
    checkName(p);
    const st = await this.lstat(p);
    if (st?.type === "dir") throw bad(`cannot replace to directory ${p} with file`);
    await this.ensureInLayer(parentPath(p));
    if (st?.inLayer) await unlink(this.host(p));
  }

  /** How to give a freshly created non-directory `meta`: what to chown/chmod, and its clamped mtime. */
  private metaPlan(p: string, type: EntryType, meta: EntryMeta, modeIs?: number): { chown?: [number, number]; chmod?: number; mtime: number } {
    const needChown = meta.uid !== euid || meta.gid !== egid || this.setgidDirs.has(parentPath(p));
    return {
      chown: needChown ? [meta.uid, meta.gid] : undefined,
      // chown clears set-id bits, so the mode is set after it whenever it ran.
      chmod: type !== "symlink" && (needChown || modeIs !== meta.mode) ? meta.mode : undefined,
      mtime: Number(this.clamp(meta.mtimeNs)) / 1e9,
    };
  }

  private async applyMeta(p: string, type: EntryType, meta: EntryMeta, modeIs?: number): Promise<void> {
    const host = this.host(p);
    const plan = this.metaPlan(p, type, meta, modeIs);
    if (plan.chown) await lchown(host, plan.chown[0], plan.chown[1]);
    if (plan.chmod !== undefined) await chmod(host, plan.chmod);
    await lutimes(host, plan.mtime, plan.mtime);
    if (meta.xattrs?.size) this.xattrQueue.set(p, meta.xattrs);
  }

  /**
   * Registers a file or symlink at `p` that someone else (a copy worker) creates: clears the
   * way as writeFile would and returns the host path and the metadata steps to apply after
   * creating it. `modeIs` is the mode the creation leaves (copyFile keeps the source's).
   */
  async reserve(p: string, type: "file" | "symlink", meta: EntryMeta, size: number, modeIs?: number, linkTarget?: string): Promise<{ dst: string; chown?: [number, number]; chmod?: number; mtime: number }> {
    await this.prepareNonDir(p);
    this.written.set(p, { type, linkTarget });
    if (meta.xattrs?.size) this.xattrQueue.set(p, meta.xattrs);
    this.files++;
    this.bytes += size;
    return { dst: this.host(p), ...this.metaPlan(p, type, meta, modeIs) };
  }

  /**
   * Writes a regular file: `produce` creates the new host file (which does not exist yet);
   * `producedMode` is the mode it leaves, if known, to skip a redundant chmod.
   */
  async writeFile(p: string, meta: EntryMeta, size: number, produce: (hostPath: string) => Promise<void>, producedMode?: number): Promise<void> {
    await this.prepareNonDir(p);
    await produce(this.host(p));
    this.written.set(p, { type: "file" });
    await this.applyMeta(p, "file", meta, producedMode);
    this.files++;
    this.bytes += size;
  }

  async symlink(p: string, target: string, meta: EntryMeta): Promise<void> {
    await this.prepareNonDir(p);
    await symlink(target, this.host(p));
    this.written.set(p, { type: "symlink", linkTarget: target });
    await this.applyMeta(p, "symlink", meta);
    this.files++;
  }

  /** A hard link to `existing`, which this operation already wrote. */
  async hardlink(p: string, existing: string): Promise<void> {
    await this.prepareNonDir(p);
    await link(this.host(existing), this.host(p));
    this.written.set(p, { type: this.written.get(existing)?.type ?? "file" });
    this.files++;
  }

  /** A device node or FIFO (rare: from a stage's /dev or an archive). */
  async special(p: string, type: "char" | "block" | "fifo", rdev: number, meta: EntryMeta): Promise<void> {
    await this.prepareNonDir(p);
    const host = this.host(p);
    try {
      if (type === "fifo") await execFileAsync("mkfifo", ["-m", "0600", "--", host]);
      else {
        const major = Math.floor(rdev / 256) & 0xfff | (Math.floor(rdev / 2 ** 32) & ~0xfff);
        const minor = (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00));
        await execFileAsync("mknod", ["-m", "0600", "--", host, type === "char" ? "c" : "b", String(major), String(minor)]);
      }
    } catch (e) {
      throw new FileOpError("TOOL", `cannot create ${type} device ${p}: ${(e as Error).message}`, { cause: e });
    }
    this.written.set(p, { type });
    await this.applyMeta(p, type, meta);
    this.files++;
  }

  /**
   * tar -x semantics: whatever is at `p` is removed unless it and the new entry are both
   * directories (then they merge). A lower directory replaced by a non-directory is hidden.
   */
  async clearForArchive(p: string, newIsDir: boolean): Promise<void> {
    const st = await this.lstat(p);
    if (!st || (st.type === "dir" && newIsDir)) return;
    if (st.inLayer) {
      await rm(this.host(p), { recursive: true, force: true });
      for (const q of [...this.written.keys()]) {
        if (q === p || q.startsWith(p + "/")) {
          this.written.delete(q);
          this.inLayer.delete(q);
          this.dirTimes.delete(q);
          this.xattrQueue.delete(q);
        }
      }
    }
    // Whatever a lower layer holds there is hidden from now on (the new entry replaces it).
    if (this.view && (await this.view.lstat(p)) !== undefined) this.shadowed.add(p);
  }

  /** Copies a file of a lower layer up into this layer (before hard-linking to it). */
  async copyUpFile(p: string): Promise<void> {
    if (this.written.has(p)) return;
    const st = await this.view?.lstat(p);
    if (!st || st.type !== "file") throw bad(`cannot link to ${p}: not a regular file`);
    await this.ensureInLayer(parentPath(p));
    await copyFile(st.hostPath, this.host(p));
    this.written.set(p, { type: "file" });
    await this.applyMeta(p, "file", { mode: st.mode, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs, xattrs: await this.view!.xattrs(p) }, st.mode);
  }

  /** Gives an existing directory of the merged state new metadata (copying it up first). */
  async setDirMeta(p: string, meta: EntryMeta): Promise<void> {
    await this.copyDir(p, meta, true);
  }

  /** True if `p` was written by this operation. */
  has(p: string): boolean {
    return this.written.has(p);
  }

  /** Applies directory times (deepest first) and extended attributes. Call once, at the end. */
  async finish(): Promise<void> {
    const dirs = [...this.dirTimes.entries()].sort((a, b) => b[0].split("/").length - a[0].split("/").length);
    for (const [p, mtimeNs] of dirs) {
      if (p !== "/" && !this.written.has(p)) continue;
      const t = Number(this.clamp(mtimeNs)) / 1e9;
      await lutimes(this.host(p), t, t);
    }
    if (this.xattrQueue.size > 0) {
      await writeXattrs(this.layerDir, [...this.xattrQueue].map(([p, a]) => [p === "/" ? "" : p.slice(1), a] as const));
    }
  }
}
