// What a layer snapshot says in extended attributes: which directories are opaque
// (overlayfs `trusted.overlay.opaque=y`, or `user.overlay.opaque` for userxattr mounts)
// and the attributes its files carry (capabilities, ACLs …). Read from the snapshot's
// record (xattr-sidecar.ts), or with one `getfattr -R` where there is none, and cached for
// the life of the process: snapshots in the store are immutable once renamed
// into place, so a layer's answer never changes.
import { statSync } from "node:fs";
import { isOverlayXattr, readXattrTree, type Xattrs } from "./xattr.js";
import { readXattrSidecar } from "./xattr-sidecar.js";

export interface LayerAttrs {
  /** Directories (paths relative to the layer, "" for its root) marked opaque. */
  readonly opaque: ReadonlySet<string>;
  /** Relative path → its attributes, overlayfs bookkeeping removed; entries without any are absent. */
  readonly xattrs: ReadonlyMap<string, Xattrs>;
}

const MAX_CACHED = 512;
const cache = new Map<string, Promise<LayerAttrs>>();

async function scan(dir: string): Promise<LayerAttrs> {
  return fromXattrTree(readXattrSidecar(dir) ?? (await readXattrTree(dir)));
}

function fromXattrTree(all: ReadonlyMap<string, Xattrs>): LayerAttrs {
  const opaque = new Set<string>();
  const xattrs = new Map<string, Xattrs>();
  for (const [rel, attrs] of all) {
    const kept: Xattrs = new Map();
    for (const [name, value] of attrs) {
      if (name === "trusted.overlay.opaque" || name === "user.overlay.opaque") {
        if (value.toString() === "y") opaque.add(rel);
      } else if (!isOverlayXattr(name)) kept.set(name, value);
    }
    if (kept.size > 0) xattrs.set(rel, kept);
  }
  return { opaque, xattrs };
}

/**
 * The opaque directories and file attributes of one layer snapshot directory. The cache key
 * includes the directory's inode and times so a test that reuses a path after deleting the
 * directory does not see stale answers.
 */
export async function layerAttrs(dir: string): Promise<LayerAttrs> {
  const key = cacheKey(dir);
  let hit = cache.get(key);
  if (hit === undefined) {
    hit = scan(dir);
    hit.catch(() => cache.delete(key));
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, hit);
  } else {
    // Refresh its place in the insertion order (least recently used goes first).
    cache.delete(key);
    cache.set(key, hit);
  }
  return hit;
}

// statSync: a build asks for every layer of the rootfs per step, and the sync call takes
// microseconds where a thread-pool round trip takes far longer.
function cacheKey(dir: string): string {
  const st = statSync(dir, { bigint: true });
  return `${dir}\0${st.dev}:${st.ino}:${st.ctimeNs}`;
}
