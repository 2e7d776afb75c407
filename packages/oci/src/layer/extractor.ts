// Applies tar entries to a directory, safely (see safe-path.ts) and completely: owners, modes
// (with setuid/setgid/sticky), mtimes, xattrs, hardlinks, symlinks, devices, fifos, and
// whiteouts in either overlayfs-lower form or applied as deletions.
//
// Metadata calls are synchronous on purpose: each is a few microseconds of syscall, while a
// libuv threadpool round trip costs more than that, and entries must be applied in order
// anyway. Only large file contents are written asynchronously, chunk by chunk.
//
// Work that must wait until all entries are in place is deferred to finish(): directory modes
// and mtimes (children change a directory's mtime), device nodes and fifos (Node cannot
// mknod; one `tar` process creates them all), and xattrs (one `setfattr` process).
import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, unlinkSync, write, writeSync, type Stats,
} from "node:fs";
import { promisify } from "node:util";
import { OciError } from "../errors.js";
import type { TarHeader } from "../tar/header.js";
import { cleanPath, RootResolver, unsafe } from "./safe-path.js";
import { createSpecialFiles, type SpecialFile } from "./special-files.js";
import { isLayerXattr, OPAQUE_MARKER, WHITEOUT_PREFIX } from "./entry-headers.js";
import { overlayXattrPrefix, writeXattrs } from "./xattr.js";

const writeP = promisify(write);
const SMALL_BODY = 1 << 20;
/** The opaque marker of an extracted directory, in this process's overlay attribute namespace. */
const opaqueMarker = () => new Map([[`${overlayXattrPrefix()}opaque`, Buffer.from("y")]]);

/** How whiteout entries are handled. */
export type WhiteoutMode = "overlay" | "apply";

export interface ExtractOptions {
  whiteouts: WhiteoutMode;
  /** Treat absolute symlink targets as relative to the root (a chroot view); default: refuse writing through them. */
  rootedSymlinks?: boolean;
  /** Restore numeric owners (default: when running as root). */
  sameOwner?: boolean;
}

function lstatOrNull(abs: string): Stats | null {
  try {
    return lstatSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function within(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(`${prefix}/`);
}

export class Extractor {
  private readonly resolver: RootResolver;
  private readonly sameOwner: boolean;
  /** Real paths created by this layer (apply mode must not whiteout them). */
  private readonly created = new Set<string>();
  private readonly dirMeta = new Map<string, { mode: number; mtime: number }>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private readonly specials = new Map<string, SpecialFile>();

  constructor(private readonly root: string, private readonly opts: ExtractOptions) {
    this.sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
    this.resolver = new RootResolver(root, {
      isPendingSpecial: (rel) => this.specials.has(rel),
      onImplicitDir: (rel) => {
        chmodSync(this.resolver.abs(rel), 0o755);
        this.created.add(rel);
      },
    }, opts.rootedSymlinks ?? false);
  }

  /** Applies one entry; `body` must be consumed (it is, for files). */
  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const comps = cleanPath(h.name, h.name);
    if (comps.length === 0) {
      if (h.type !== "dir") throw unsafe(h.name, "only a directory can stand for the target directory itself");
      this.setDirMeta("", h);
      return;
    }
    const base = comps[comps.length - 1]!;
    const parentComps = comps.slice(0, -1);
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(h, parentComps, base);

    const parent = this.resolver.resolveDir(parentComps, h.name, true)!;
    const rel = parent === "" ? base : `${parent}/${base}`;
    const abs = this.resolver.abs(rel);
    if (this.specials.has(rel)) this.remove(rel, "special");

    if (h.type === "dir") {
      try {
        mkdirSync(abs, 0o700);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const st = lstatSync(abs);
        if (!st.isDirectory()) {
          this.remove(rel, st);
          mkdirSync(abs, 0o700);
        }
      }
      this.chown(abs, h);
      this.setDirMeta(rel, h);
      this.created.add(rel);
      this.resolver.remember(comps.join("/"), rel);
      this.setXattrs(rel, h);
      return;
    }
    if (h.type === "hardlink") return this.hardlink(h, rel);
    this.created.add(rel);
    switch (h.type) {
      case "file":
        await this.file(rel, abs, h, body);
        break;
      case "symlink":
        if (!h.linkname) throw new OciError("INVALID_TAR", `tar entry ${JSON.stringify(h.name)} is a symlink without a target.`);
        this.replacing(rel, () => symlinkSync(h.linkname!, abs));
        this.chown(abs, h);
        lutimesSync(abs, h.mtime, h.mtime);
        break;
      case "char":
      case "block":
      case "fifo":
        this.remove(rel, lstatOrNull(abs));
        this.specials.set(rel, { rel, header: h });
        break;
    }
    this.setXattrs(rel, h);
  }

  /**
   * Runs `make` (which creates `rel` and fails with EEXIST if something is there); if the
   * path is taken, removes what is there (a later tar entry replaces an earlier one, or a
   * layer replaces a lower layer's file) and tries once more. Optimistic: no lstat per entry.
   */
  private replacing<T>(rel: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      this.remove(rel, lstatSync(this.resolver.abs(rel)));
      return make();
    }
  }

  private chown(abs: string, h: TarHeader): void {
    if (this.sameOwner) lchownSync(abs, h.uid, h.gid);
  }

  private setDirMeta(rel: string, h: TarHeader): void {
    this.dirMeta.set(rel, { mode: h.mode, mtime: h.mtime });
  }

  private setXattrs(rel: string, h: TarHeader): void {
    if (!h.xattrs) return;
    const keep = new Map([...h.xattrs].filter(([k]) => isLayerXattr(k)));
    if (keep.size > 0) this.xattrs.set(rel, keep);
  }

  private async file(rel: string, abs: string, h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const fd = this.replacing(rel, () => openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    try {
      if (h.size <= SMALL_BODY) {
        const parts: Buffer[] = [];
        for await (const b of body) parts.push(b);
        if (parts.length > 0) {
          const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          let done = 0;
          while (done < whole.length) done += writeSync(fd, whole, done); // short writes are legal
        }
      } else {
        for await (const b of body) {
          let off = 0;
          while (off < b.length) off += (await writeP(fd, b, off, b.length - off)).bytesWritten;
        }
      }
      // chown clears setuid/setgid, so the mode comes after it.
      if (this.sameOwner) fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode);
      futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private hardlink(h: TarHeader, rel: string): void {
    const targetComps = cleanPath(h.linkname ?? "", h.name);
    if (targetComps.length === 0) throw unsafe(h.name, "a hardlink cannot point at the target directory itself");
    const tparent = this.resolver.resolveDir(targetComps.slice(0, -1), h.name, false);
    const missing = (): OciError => unsafe(h.name, `its hardlink target ${JSON.stringify(h.linkname)} does not exist in the target directory`);
    if (tparent === null) throw missing();
    const tbase = targetComps[targetComps.length - 1]!;
    const trel = tparent === "" ? tbase : `${tparent}/${tbase}`;
    if (trel === rel) return;
    if (this.specials.has(trel)) {
      this.remove(rel, lstatOrNull(this.resolver.abs(rel)));
      this.specials.set(rel, { rel, header: h, linkTo: trel });
      this.created.add(rel);
      return;
    }
    const tst = lstatOrNull(this.resolver.abs(trel));
    if (tst === null) throw missing();
    if (tst.isDirectory()) throw unsafe(h.name, `its hardlink target ${JSON.stringify(h.linkname)} is a directory`);
    this.replacing(rel, () => linkSync(this.resolver.abs(trel), this.resolver.abs(rel)));
    this.created.add(rel);
  }

  private whiteout(h: TarHeader, parentComps: string[], base: string): void {
    const overlay = this.opts.whiteouts === "overlay";
    if (base === OPAQUE_MARKER) {
      const dir = this.resolver.resolveDir(parentComps, h.name, overlay);
      if (dir === null) return;
      if (overlay) {
        this.xattrs.set(dir, new Map([...(this.xattrs.get(dir) ?? []), ...opaqueMarker()]));
        return;
      }
      for (const name of readdirSync(this.resolver.abs(dir))) {
        const rel = dir === "" ? name : `${dir}/${name}`;
        if (!this.created.has(rel)) this.remove(rel, lstatOrNull(this.resolver.abs(rel)));
      }
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // AUFS bookkeeping (.wh..wh.plnk …), meaningless here
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === "" || name === "." || name === "..") throw unsafe(h.name, `it is a whiteout of ${JSON.stringify(name)}, which names no file`);
    const dir = this.resolver.resolveDir(parentComps, h.name, overlay);
    if (dir === null) return;
    const rel = dir === "" ? name : `${dir}/${name}`;
    if (this.created.has(rel)) return; // whiteouts hide lower layers only, never this layer's entries
    const existing = this.specials.has(rel) ? "special" : lstatOrNull(this.resolver.abs(rel));
    if (existing !== null) this.remove(rel, existing);
    if (overlay) {
      this.specials.set(rel, { rel, header: { ...h, name: rel, type: "char", mode: 0, devmajor: 0, devminor: 0, xattrs: undefined } });
    }
  }

  /** Removes whatever is at `rel` (recursively; symlinks themselves, never their targets). */
  private remove(rel: string, existing: Stats | "special" | null): void {
    if (existing === null) return;
    const isDir = existing !== "special" && existing.isDirectory();
    if (existing !== "special") {
      if (isDir) rmSync(this.resolver.abs(rel), { recursive: true, force: true });
      else unlinkSync(this.resolver.abs(rel));
    }
    if (isDir || existing === "special") {
      for (const map of [this.specials, this.xattrs, this.dirMeta] as Map<string, unknown>[]) {
        for (const k of [...map.keys()]) if (within(k, rel)) map.delete(k);
      }
      if (isDir) for (const k of [...this.created]) if (within(k, rel)) this.created.delete(k);
    } else {
      this.xattrs.delete(rel);
    }
    this.created.delete(rel);
    if (isDir || (existing !== "special" && existing.isSymbolicLink())) this.resolver.invalidate();
  }

  /** Completes the deferred work; the tree is final when this resolves. */
  async finish(): Promise<void> {
    if (this.specials.size > 0) {
      await createSpecialFiles(this.root, [...this.specials.values()]);
      for (const s of this.specials.values()) {
        if (s.linkTo !== undefined) continue;
        const abs = this.resolver.abs(s.rel);
        this.chown(abs, s.header);
        chmodSync(abs, s.header.mode);
        lutimesSync(abs, s.header.mtime, s.header.mtime);
      }
    }
    await writeXattrs(this.root, this.xattrs);
    const dirs = [...this.dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, m] of dirs) {
      const abs = this.resolver.abs(rel);
      chmodSync(abs, m.mode);
      lutimesSync(abs, m.mtime, m.mtime);
    }
  }
}

function depth(rel: string): number {
  if (rel === "") return 0;
  let n = 1;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 47) n++;
  return n;
}
