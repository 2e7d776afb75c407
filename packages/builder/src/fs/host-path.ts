// Where a container path meets a host directory. `secureJoin` is lexical: the result can
// never name anything outside `root`, but symlinks inside are the caller's business (use it
// only where every component is known not to be a symlink, e.g. paths already resolved
// against the tree). `resolveHostPath` follows symlinks the way the container would see
// them, clamped at `root`.
import { lstat, readlink } from "node:fs/promises";
import { cleanPath } from "./container-path.js";
import { resolveInRoot } from "./resolve-symlinks.js";

/** The host path of container path `p` under `root`, lexically confined (`..` stops at root). */
export function secureJoin(root: string, p: string): string {
  const clean = cleanPath(p);
  const base = root.replace(/\/+$/, "");
  return clean === "/" ? base || "/" : base + clean;
}

/**
 * Resolves container path `p` against the real tree under host directory `root`, following
 * symlinks inside it (absolute targets and `..` clamped at `root`); the last component too
 * unless `followFinal` is false. Returns the container path and its host path.
 */
export async function resolveHostPath(root: string, p: string, opts?: { followFinal?: boolean }): Promise<{ path: string; hostPath: string }> {
  const path = await resolveInRoot(p, async (q) => {
    const host = secureJoin(root, q);
    try {
      const st = await lstat(host);
      return st.isSymbolicLink() ? { isSymlink: true, linkTarget: await readlink(host) } : { isSymlink: false };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw e;
    }
  }, opts?.followFinal ?? true);
  return { path, hostPath: secureJoin(root, path) };
}
