// Read access to a prepared rootfs before it is mounted, and the host paths where new
// entries go: for an overlay rootfs, lookups merge the (nearly empty) upper dir over the
// lower snapshots with overlayfs' rules (LayeredView); writes go to the upper dir. For a
// plain directory rootfs both are the directory itself.
import { lstat, readdir, readlink } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { LayeredView } from "../fs/layered-view.js";
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
}

async function lstatOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(p, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

function isWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

export class RootfsAccess {
  private constructor(
    /** The writable layer: overlay upper or the plain rootfs directory. */
    readonly writableRoot: string,
    private readonly lowers: LayeredView | undefined,
  ) {}

  /**
   * Opens a prepared rootfs. An overlay upper that is still empty (the normal case: the
   * executor's own stubs are the only things written before the run, and they are never
   * whiteouts or opaque) is checked with plain lstat before the lowers; a non-empty upper
   * from elsewhere joins the layered view, whose opaque-directory rules then apply to it.
   */
  static async open(rootfs: PreparedRootfs): Promise<RootfsAccess> {
    if (rootfs.kind === "dir") return new RootfsAccess(rootfs.path, undefined);
    const upperEmpty = (await readdir(rootfs.upper)).length === 0;
    const layers = upperEmpty ? rootfs.lowers : [rootfs.upper, ...rootfs.lowers];
    return new RootfsAccess(rootfs.upper, new LayeredView(layers));
  }

  /** The host path of container path `p` (clean, resolved) in the writable layer. */
  writablePath(p: string): string {
    return p === "/" ? this.writableRoot : this.writableRoot + p;
  }

  /** The entry at clean container path `p` (not followed), or undefined. */
  async lstat(p: string): Promise<RootfsEntry | undefined> {
    const host = this.writablePath(p);
    const st = await lstatOrUndefined(host);
    if (st !== undefined) {
      if (isWhiteout(st)) return undefined;
      const type = entryTypeOfMode(Number(st.mode));
      if (type === undefined) return undefined;
      return {
        type, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs,
        linkTarget: type === "symlink" ? await readlink(host) : undefined, writable: true, hostPath: host,
      };
    }
    if (this.lowers === undefined) return undefined;
    const vs = await this.lowers.lstat(p);
    if (vs === undefined) return undefined;
    return {
      type: vs.type, mode: vs.mode, uid: vs.uid, gid: vs.gid, mtimeNs: vs.mtimeNs,
      linkTarget: vs.linkTarget, writable: false, hostPath: vs.hostPath,
    };
  }

  /** Extended attributes of a lower entry (for emulating overlayfs' copy-up of a directory). */
  async lowerXattrs(p: string): Promise<Xattrs> {
    return this.lowers === undefined ? new Map() : this.lowers.xattrs(p);
  }

  /**
   * Resolves container path `p` inside the rootfs (symlinks followed, absolute targets and
   * `..` clamped at `/`), the last component too unless `followFinal` is false.
   */
  resolve(p: string, followFinal = true): Promise<string> {
    return resolveInRoot(p, async (q) => {
      const e = await this.lstat(q);
      return e && { isSymlink: e.type === "symlink", linkTarget: e.linkTarget };
    }, followFinal);
  }
}
