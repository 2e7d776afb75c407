// Read access to a prepared rootfs before it is mounted, and the host paths where new
// entries go: for an overlay rootfs, lookups merge the (nearly empty) upper dir over the
// lower snapshots with overlayfs' rules; writes go to the upper dir. For a plain directory
// rootfs both are the directory itself.
//
// Lookups are synchronous on purpose: a step makes a few dozen of them (mount targets,
// the cwd, PATH search) and each await of fs/promises costs a thread-pool round trip that
// dominated the step's preparation time. The only asynchronous part, reading which
// directories of each lower layer are opaque (one getfattr per layer, cached for the
// process), happens once in open(), for all layers in parallel.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from "node:fs";
import { layerAttrs, type LayerAttrs } from "../fs/layer-attrs.js";
import { resolveInRoot } from "../fs/resolve-symlinks.js";
import { entryTypeOfMode, type EntryType } from "../fs/view-types.js";
import type { Xattrs } from "../fs/xattr.js";
import type { PreparedRootfs } from "../snapshot/types.js";

/** What the executor needs to know about one entry of the rootfs. */
export interface RootfsEntry {
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  linkTarget?: string;
  /** True if the entry lives in the writable layer (upper dir or the plain directory). */
  writable: boolean;
  /** Host path of the entry in the layer that holds it. */
  hostPath: string;
  /** Index of the lower layer holding it (-1 when writable). */
  layer: number;
}

function lstatQuiet(p: string): BigIntStats | undefined {
  try {
    return lstatSync(p, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

function toEntry(st: BigIntStats, hostPath: string, layer: number): RootfsEntry | undefined {
  const type = entryTypeOfMode(Number(st.mode));
  if (type === undefined) return undefined;
  return {
    type, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs,
    linkTarget: type === "symlink" ? readlinkSync(hostPath) : undefined, writable: layer < 0, hostPath, layer,
  };
}

export class RootfsAccess {
  /** Lower layer indices whose directories merge into a directory path (memo). */
  private readonly dirLayers = new Map<string, number[] | undefined>();

  private constructor(
    /** The writable layer: overlay upper or the plain rootfs directory. */
    readonly writableRoot: string,
    private readonly lowers: readonly string[],
    private readonly attrs: readonly LayerAttrs[],
  ) {}

  /**
   * Opens a prepared rootfs. An overlay upper that is still empty (the normal case: the
   * executor's own stubs are the only things written before the run, and they are never
   * whiteouts or opaque) is looked at before the lowers with plain lstat; a non-empty
   * upper from elsewhere is treated as one more lower layer, opaque directories included.
   */
  static async open(rootfs: PreparedRootfs): Promise<RootfsAccess> {
    if (rootfs.kind === "dir") return new RootfsAccess(rootfs.path, [], []);
    const lowers = readdirSync(rootfs.upper).length === 0 ? rootfs.lowers : [rootfs.upper, ...rootfs.lowers];
    return new RootfsAccess(rootfs.upper, lowers, await Promise.all(lowers.map((l) => layerAttrs(l))));
  }

  /** The host path of container path `p` (clean, resolved) in the writable layer. */
  writablePath(p: string): string {
    return p === "/" ? this.writableRoot : this.writableRoot + p;
  }

  /** The entry at clean container path `p` (not followed), or undefined. */
  lstat(p: string): RootfsEntry | undefined {
    const host = this.writablePath(p);
    const st = lstatQuiet(host);
    if (st !== undefined) return isWhiteout(st) ? undefined : toEntry(st, host, -1);
    return this.lowerLstat(p);
  }

  private opaque(layer: number, dir: string): boolean {
    return this.attrs[layer]!.opaque.has(dir === "/" ? "" : dir.slice(1));
  }

  /** overlayfs' merge of directory `dir` over the lowers: the layers it comes from, top-most first. */
  private layersOfDir(dir: string): number[] | undefined {
    if (this.dirLayers.has(dir)) return this.dirLayers.get(dir);
    let out: number[] | undefined;
    if (dir === "/") {
      out = [];
      for (let i = 0; i < this.lowers.length; i++) {
        out.push(i);
        if (this.opaque(i, "/")) break;
      }
    } else {
      const parent = this.layersOfDir(dir.slice(0, dir.lastIndexOf("/")) || "/");
      out = [];
      for (const i of parent ?? []) {
        const st = lstatQuiet(this.lowers[i] + dir);
        if (st === undefined) continue;
        if (!st.isDirectory()) break; // a whiteout or a non-directory hides the rest
        out.push(i);
        if (this.opaque(i, dir)) break;
      }
      if (out.length === 0) out = undefined;
    }
    this.dirLayers.set(dir, out);
    return out;
  }

  private lowerLstat(p: string): RootfsEntry | undefined {
    if (this.lowers.length === 0) return undefined;
    if (p === "/") {
      const st = lstatQuiet(this.lowers[0]!);
      return st && toEntry(st, this.lowers[0]!, 0);
    }
    const parent = this.layersOfDir(p.slice(0, p.lastIndexOf("/")) || "/");
    for (const i of parent ?? []) {
      const host = this.lowers[i] + p;
      const st = lstatQuiet(host);
      if (st === undefined) continue;
      return isWhiteout(st) ? undefined : toEntry(st, host, i);
    }
    return undefined;
  }

  /** Extended attributes of a lower entry (for emulating overlayfs' copy-up of a directory). */
  lowerXattrs(p: string): Xattrs {
    const e = this.lowerLstat(p);
    if (e === undefined) return new Map();
    return new Map(this.attrs[e.layer]!.xattrs.get(p === "/" ? "" : p.slice(1)) ?? []);
  }

  /**
   * Resolves container path `p` inside the rootfs (symlinks followed, absolute targets and
   * `..` clamped at `/`), the last component too unless `followFinal` is false.
   */
  resolve(p: string, followFinal = true): Promise<string> {
    return resolveInRoot(p, async (q) => {
      const e = this.lstat(q);
      return e && { isSymlink: e.type === "symlink", linkTarget: e.linkTarget };
    }, followFinal);
  }
}
