// Where a container path meets a host directory. `secureJoin` is lexical: the result can
// never name anything outside `root`, but symlinks inside are the caller's business (use it
// only where every component is known not to be a symlink, e.g. paths already resolved
// against the tree). `resolveHostPath` follows symlinks the way the container would see
// them, clamped at `root`.
import { constants } from "node:fs";
import { lstat, open, readlink } from "node:fs/promises";
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

/**
 * Reads the file at `rel` inside host directory `root` the way a container-rooted lookup
 * would: symlinks in every component (the final one too) are followed inside `root` only
 * (an absolute or climbing target is clamped at `root`), and the file is opened without
 * following a final symlink, so a link swapped in after the lookup cannot redirect the read
 * outside. For files of an untrusted tree such as the Dockerfile of a build context.
 * Errors: ENOENT when nothing is there, EISDIR / EINVAL for a non-regular file.
 */
export async function readFileInRoot(root: string, rel: string): Promise<Buffer> {
  const { hostPath, path: resolved } = await resolveHostPath(root, rel);
  let fh;
  try {
    fh = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ELOOP: the final component turned into a symlink after it was resolved.
    throw Object.assign(new Error(`${rel}: ${code === "ENOENT" ? "no such file" : code === "ELOOP" ? "changed while being read" : (e as Error).message}`), { code: code === "ELOOP" ? "ENOENT" : code });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw Object.assign(new Error(`${rel}: ${st.isDirectory() ? "is a directory" : "not a regular file"} (resolved to ${resolved} inside ${root})`), { code: st.isDirectory() ? "EISDIR" : "EINVAL" });
    }
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
