// A read-only merged view of a stack of layer snapshots, computed in userspace with the
// rules overlayfs applies to its lower layers: the top-most layer holding a name wins; a
// char device 0/0 is a whiteout that hides the name in every layer below; directories merge
// with the directories of the same path below them, unless one is opaque
// (trusted.overlay.opaque=y), which hides everything under it in lower layers; a non-directory
// hides whatever lower layers hold at its path. COPY/ADD/WORKDIR read the rootfs through it
// without a mount.
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { createReadStream, lstatSync } from "node:fs";
import { PassThrough, type Readable } from "node:stream";
import { cleanPath, parentPath, sortNames } from "./container-path.js";
import { layerAttrs, type LayerAttrs } from "./layer-attrs.js";
import { resolveInRoot } from "./resolve-symlinks.js";
import { entryTypeOfMode, ViewError, type ViewStat } from "./view-types.js";
import type { Xattrs } from "./xattr.js";

/** A directory of the merged tree: the layers (indices, top-most first) whose directories merge into it. */
interface DirNode {
  layers: number[];
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

// Synchronous on purpose: a view makes many lookups per step, each in every layer, and on the
// store's (cached) directories lstat takes microseconds where a fs/promises round trip through
// the thread pool, and the exception object of a missing name, cost far more.
async function lstatOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
}

export class LayeredView {
  readonly layers: readonly string[];
  private readonly dirs = new Map<string, Promise<DirNode | undefined>>();
  /** Each layer's attributes, looked up once per view (layerAttrs stats the layer per call). */
  private readonly attrs = new Map<number, Promise<LayerAttrs>>();

  /** @param layers snapshot directories, top-most first. An empty list is an empty rootfs (scratch). */
  constructor(layers: readonly string[]) {
    this.layers = layers.map((l) => l.replace(/\/+$/, "") || "/");
  }

  private host(layer: number, p: string): string {
    return p === "/" ? this.layers[layer]! : this.layers[layer] + p;
  }

  private attrsOf(layer: number): Promise<LayerAttrs> {
    let hit = this.attrs.get(layer);
    if (hit === undefined) {
      hit = layerAttrs(this.layers[layer]!);
      this.attrs.set(layer, hit);
    }
    return hit;
  }

  private async isOpaque(layer: number, p: string): Promise<boolean> {
    const attrs = await this.attrsOf(layer);
    return attrs.opaque.has(p === "/" ? "" : p.slice(1));
  }

  /** The merge stack of directory `p` (clean), or undefined if `p` is not a directory of the view. */
  private dirNode(p: string): Promise<DirNode | undefined> {
    let hit = this.dirs.get(p);
    if (hit === undefined) {
      hit = this.computeDirNode(p);
      this.dirs.set(p, hit);
    }
    return hit;
  }

  private async computeDirNode(p: string): Promise<DirNode | undefined> {
    if (p === "/") {
      const layers: number[] = [];
      for (let i = 0; i < this.layers.length; i++) {
        layers.push(i);
        if (await this.isOpaque(i, "/")) break;
      }
      return { layers };
    }
    const parent = await this.dirNode(parentPath(p));
    if (parent === undefined) return undefined;
    const layers: number[] = [];
    for (const i of parent.layers) {
      const st = await lstatOrUndefined(this.host(i, p));
      if (st === undefined) continue;
      if (isWhiteout(st) || !st.isDirectory()) break;
      layers.push(i);
      if (await this.isOpaque(i, p)) break;
    }
    return layers.length > 0 ? { layers } : undefined;
  }

  private async toViewStat(p: string, layer: number, st: BigIntStats): Promise<ViewStat | undefined> {
    const type = entryTypeOfMode(Number(st.mode));
    if (type === undefined) return undefined;
    const hostPath = this.host(layer, p);
    return {
      path: p,
      type,
      mode: Number(st.mode) & 0o7777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      mtimeNs: st.mtimeNs,
      atimeNs: st.atimeNs,
      linkTarget: type === "symlink" ? await readlink(hostPath) : undefined,
      rdev: Number(st.rdev),
      hostPath,
      layer,
      dev: Number(st.dev),
      ino: Number(st.ino),
      nlink: Number(st.nlink),
    };
  }

  /** Metadata of the entry at container path `p` (symlinks not followed), or undefined if it does not exist. */
  async lstat(p: string): Promise<ViewStat | undefined> {
    const clean = cleanPath(p);
    if (this.layers.length === 0) return undefined;
    if (clean === "/") {
      return this.toViewStat("/", 0, await lstat(this.layers[0]!, { bigint: true }));
    }
    const parent = await this.dirNode(parentPath(clean));
    if (parent === undefined) return undefined;
    for (const i of parent.layers) {
      const st = await lstatOrUndefined(this.host(i, clean));
      if (st === undefined) continue;
      if (isWhiteout(st)) return undefined;
      return this.toViewStat(clean, i, st);
    }
    return undefined;
  }

  /** Visible names of directory `p` with the layer holding each (the top-most one), whiteouts applied. */
  private async listing(p: string): Promise<Map<string, number>> {
    const node = await this.dirNode(p);
    if (node === undefined) {
      const st = await this.lstat(p);
      throw st === undefined
        ? new ViewError("ENOENT", p, `${p}: no such file or directory`)
        : new ViewError("ENOTDIR", p, `${p}: not a directory`);
    }
    const seen = new Set<string>();
    const visible = new Map<string, number>();
    for (const i of node.layers) {
      let entries;
      try {
        entries = await readdir(this.host(i, p), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      for (const ent of entries) {
        if (seen.has(ent.name)) continue;
        seen.add(ent.name);
        if (ent.isCharacterDevice()) {
          const st = await lstatOrUndefined(this.host(i, p === "/" ? "/" + ent.name : p + "/" + ent.name));
          if (st !== undefined && isWhiteout(st)) continue;
        }
        visible.set(ent.name, i);
      }
    }
    return visible;
  }

  /** The names in directory `p`, merged over the layers, whiteouts applied, in byte order. */
  async readdir(p: string): Promise<string[]> {
    return sortNames([...(await this.listing(cleanPath(p))).keys()]);
  }

  /** The entries of directory `p` with their metadata (one lstat each), in byte order. */
  async readdirStats(p: string): Promise<ViewStat[]> {
    const dir = cleanPath(p);
    const listing = await this.listing(dir);
    const names = sortNames([...listing.keys()]);
    const stats = await Promise.all(
      names.map(async (name) => {
        const child = dir === "/" ? "/" + name : dir + "/" + name;
        const layer = listing.get(name)!;
        const st = await lstatOrUndefined(this.host(layer, child));
        return st && this.toViewStat(child, layer, st);
      }),
    );
    return stats.filter((s): s is ViewStat => s !== undefined);
  }

  /** Extended attributes of a file as stored in one layer (see xattrs()). */
  async xattrsIn(layer: number, p: string): Promise<Xattrs> {
    const attrs = await this.attrsOf(layer);
    const clean = cleanPath(p);
    return new Map(attrs.xattrs.get(clean === "/" ? "" : clean.slice(1)) ?? []);
  }

  /**
   * Resolves symlinks in every component of `p` inside the rootfs (`..` and absolute targets
   * are clamped at `/`, like BuildKit's fs.RootPath), the last component too unless
   * `followFinal` is false. Returns a clean container path; missing components stay as named.
   */
  resolve(p: string, opts?: { followFinal?: boolean }): Promise<string> {
    return resolveInRoot(p, async (q) => {
      const st = await this.lstat(q);
      return st && { isSymlink: st.type === "symlink", linkTarget: st.linkTarget };
    }, opts?.followFinal ?? true);
  }

  /** Resolves `p` (all symlinks followed) and returns the regular file's metadata, or throws. */
  async statFile(p: string): Promise<ViewStat> {
    const resolved = await this.resolve(p);
    const st = await this.lstat(resolved);
    if (st === undefined) throw new ViewError("ENOENT", cleanPath(p), `${cleanPath(p)}: no such file or directory`);
    if (st.type === "dir") throw new ViewError("EISDIR", cleanPath(p), `${cleanPath(p)}: is a directory`);
    if (st.type !== "file") throw new ViewError("EINVAL", cleanPath(p), `${cleanPath(p)}: not a regular file`);
    return st;
  }

  /** The content of the regular file at `p`, symlinks followed inside the rootfs. */
  async readFile(p: string): Promise<Buffer> {
    return readFile((await this.statFile(p)).hostPath);
  }

  /** A stream of the regular file at `p`, symlinks followed inside the rootfs; errors arrive on the stream. */
  openRead(p: string): Readable {
    const out = new PassThrough();
    this.statFile(p).then(
      (st) => {
        const src = createReadStream(st.hostPath);
        src.on("error", (e) => out.destroy(e));
        src.pipe(out);
      },
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }

  /** Extended attributes of the entry at `p` (not followed), overlayfs bookkeeping left out. */
  async xattrs(p: string): Promise<Xattrs> {
    const st = await this.lstat(p);
    return st === undefined ? new Map() : this.xattrsIn(st.layer, st.path);
  }

  /**
   * Walks the merged subtree at `p` depth-first, parents before children, names in byte
   * order, symlinks not followed. Yields nothing if `p` does not exist.
   */
  async *walk(p: string): AsyncIterable<ViewStat> {
    const root = await this.lstat(p);
    if (root === undefined) return;
    yield root;
    if (root.type === "dir") yield* this.walkChildren(root.path);
  }

  private async *walkChildren(dir: string): AsyncIterable<ViewStat> {
    for (const st of await this.readdirStats(dir)) {
      yield st;
      if (st.type === "dir") yield* this.walkChildren(st.path);
    }
  }
}
