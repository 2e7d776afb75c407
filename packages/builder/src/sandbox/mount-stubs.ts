// Mount stubs: mountpoints (and a missing cwd) that the executor has to create inside the
// rootfs before a run. Like BuildKit's executor stubs, each one that is still the empty
// entry we made is removed after the run, so that /proc, /etc/hosts or a RUN --mount target
// never appear in the layer when the image did not have them. Creation emulates what
// overlayfs' copy-up does to a lower directory (same owner, mode, xattrs, mtime), and
// directory mtimes that only our own entries changed are put back afterwards. The file
// system calls are synchronous: a handful of tiny operations, where awaiting the thread
// pool for each would cost more than the work.
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync, type BigIntStats } from "node:fs";
import { parentPath } from "../fs/container-path.js";
import { writeXattrs, type Xattrs } from "../fs/xattr.js";
import { SandboxError } from "./errors.js";
import { setMtimesExact } from "./exact-mtime.js";
import type { RootfsAccess } from "./rootfs-access.js";

export interface StubOptions {
  uid?: number;
  gid?: number;
  mode?: number;
  /** Leave the entry (and the directories created for it) in the diff. */
  keep?: boolean;
}

interface Created {
  path: string;
  host: string;
  kind: "dir" | "file";
  mode: number;
  uid: number;
  gid: number;
  keep: boolean;
  /** Set for a directory that emulates overlayfs' copy-up of a lower directory: the lower's mtime. */
  copyUpMtimeNs?: bigint;
  /** mtime after all stubs were created (directories only). */
  settledMtimeNs?: bigint;
}

function lstatOrUndefined(p: string): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

export class MountStubs {
  private readonly created: Created[] = [];
  private readonly createdByHost = new Map<string, Created>();
  /** Directories that existed in the writable layer before us and got entries from us: host path → mtimes. */
  private readonly touched = new Map<string, { originalNs: bigint; settledNs?: bigint }>();
  private readonly xattrCopies: [string, Xattrs][] = [];

  constructor(private readonly rootfs: RootfsAccess) {}

  /**
   * Makes sure clean, resolved container path `p` exists as a directory or file, creating
   * it and any missing parent directories. An existing entry of the other kind is an error.
   */
  ensure(p: string, kind: "dir" | "file", opts: StubOptions = {}): void {
    const e = this.rootfs.lstat(p);
    if (e !== undefined) {
      if (kind === "dir" && e.type !== "dir") throw new SandboxError("SETUP", `cannot mount a directory on ${p}: it exists in the rootfs and is not a directory`);
      if (kind === "file" && e.type === "dir") throw new SandboxError("SETUP", `cannot mount a file on ${p}: it is a directory in the rootfs`);
      return;
    }
    const parent = parentPath(p);
    this.ensureDir(parent, opts);
    this.noteParent(parent);
    const host = this.rootfs.writablePath(p);
    const mode = opts.mode ?? (kind === "dir" ? 0o755 : 0o644);
    const uid = opts.uid ?? 0;
    const gid = opts.gid ?? 0;
    if (kind === "dir") mkdirSync(host);
    else writeFileSync(host, "", { flag: "wx" });
    chownSync(host, uid, gid);
    chmodSync(host, mode);
    this.record({ path: p, host, kind, mode, uid, gid, keep: opts.keep ?? false });
  }

  private record(c: Created): void {
    this.created.push(c);
    this.createdByHost.set(c.host, c);
  }

  private ensureDir(d: string, opts: StubOptions): void {
    if (d === "/") return;
    const e = this.rootfs.lstat(d);
    if (e !== undefined && e.type !== "dir") {
      throw new SandboxError("SETUP", `cannot create a mount point under ${d}: it exists in the rootfs and is not a directory`);
    }
    if (e?.writable) return;
    const parent = parentPath(d);
    this.ensureDir(parent, opts);
    this.noteParent(parent);
    const host = this.rootfs.writablePath(d);
    mkdirSync(host);
    if (e === undefined) {
      const uid = opts.uid ?? 0;
      const gid = opts.gid ?? 0;
      chownSync(host, uid, gid);
      chmodSync(host, 0o755);
      this.record({ path: d, host, kind: "dir", mode: 0o755, uid, gid, keep: opts.keep ?? false });
      return;
    }
    // Present in a lower layer only: make the upper directory look like overlayfs'
    // copy-up would, so the merged view of it does not change.
    chownSync(host, e.uid, e.gid);
    chmodSync(host, e.mode);
    const x = this.rootfs.lowerXattrs(d);
    if (x.size > 0) this.xattrCopies.push([d.slice(1), x]);
    this.record({ path: d, host, kind: "dir", mode: e.mode, uid: e.uid, gid: e.gid, keep: opts.keep ?? false, copyUpMtimeNs: e.mtimeNs });
  }

  private noteParent(d: string): void {
    const host = this.rootfs.writablePath(d);
    if (this.createdByHost.has(host) || this.touched.has(host)) return;
    const st = lstatSync(host, { bigint: true });
    this.touched.set(host, { originalNs: st.mtimeNs });
  }

  /** Call once after the last ensure(): copies lower xattrs and notes the directories' mtimes. */
  async settle(): Promise<void> {
    if (this.xattrCopies.length > 0) await writeXattrs(this.rootfs.writableRoot, this.xattrCopies);
    for (const [host, t] of this.touched) t.settledNs = lstatSync(host, { bigint: true }).mtimeNs;
    for (const c of this.created) {
      if (c.kind === "dir") c.settledMtimeNs = lstatSync(c.host, { bigint: true }).mtimeNs;
    }
  }

  /** True if nothing was created. */
  get empty(): boolean {
    return this.created.length === 0;
  }

  /**
   * After the run (the rootfs unmounted): removes every stub that is still the empty entry
   * we made, children first, and puts back the mtimes of directories that nothing but our
   * stubs changed.
   */
  async removeUnchanged(): Promise<void> {
    const mtimeBeforeRemoval = new Map<string, bigint>();
    const noteDir = (host: string) => {
      if (mtimeBeforeRemoval.has(host)) return;
      const st = lstatOrUndefined(host);
      if (st !== undefined) mtimeBeforeRemoval.set(host, st.mtimeNs);
    };
    const removed = new Set<string>();
    for (const c of [...this.created].reverse()) {
      if (c.keep) continue;
      const st = lstatOrUndefined(c.host);
      if (st === undefined) continue;
      if (Number(st.mode & 0o7777n) !== c.mode || Number(st.uid) !== c.uid || Number(st.gid) !== c.gid) continue;
      const parentHost = c.host.slice(0, c.host.lastIndexOf("/")) || "/";
      if (c.kind === "dir") {
        if (!st.isDirectory() || readdirSync(c.host).length > 0) continue;
        noteDir(c.host);
        noteDir(parentHost);
        rmdirSync(c.host);
      } else {
        if (!st.isFile() || st.size !== 0n || st.nlink !== 1n) continue;
        noteDir(parentHost);
        unlinkSync(c.host);
      }
      removed.add(c.host);
    }
    const restore: { path: string; mtimeNs: bigint }[] = [];
    for (const [host, t] of this.touched) {
      if (mtimeBeforeRemoval.get(host) === t.settledNs && t.settledNs !== t.originalNs) restore.push({ path: host, mtimeNs: t.originalNs });
    }
    for (const c of this.created) {
      if (c.kind !== "dir" || removed.has(c.host) || c.copyUpMtimeNs === undefined) continue;
      const before = mtimeBeforeRemoval.get(c.host) ?? lstatOrUndefined(c.host)?.mtimeNs;
      if (before === c.settledMtimeNs) restore.push({ path: c.host, mtimeNs: c.copyUpMtimeNs });
    }
    await setMtimesExact(restore);
  }
}
