// Symlink resolution confined to a root, the way BuildKit's fs.RootPath (containerd
// continuity) and cyphar/filepath-securejoin do it: every component is looked up in the
// tree, a symlink is replaced by its target (an absolute target restarts at the root, a
// relative one continues from the link's directory), and `..` never climbs above the root.
// The tree is abstract (a callback) so the same rules serve a layered rootfs view, a layer
// being written, a build context and a plain host directory.
import { cleanPath } from "./container-path.js";

/** What the resolver needs to know about one path of the tree. */
export interface LinkInfo {
  isSymlink: boolean;
  linkTarget?: string;
}

/** Looks up a clean absolute path of the tree; undefined when nothing is there. */
export type LinkLookup = (path: string) => Promise<LinkInfo | undefined>;

/** Linux gives up after 40 nested links (MAXSYMLINKS); securejoin allows 255. */
export const MAX_SYMLINKS = 255;

export class SymlinkLoopError extends Error {
  readonly code = "ELOOP";
  constructor(readonly path: string) {
    super(`too many levels of symbolic links while resolving ${path}`);
  }
}

/**
 * Resolves `path` inside the tree and returns a clean absolute path with no symlink in any
 * component (the last one too when `followFinal`). Components that do not exist are kept
 * lexically, so the result names where a new entry would be created.
 */
export async function resolveInRoot(path: string, lookup: LinkLookup, followFinal: boolean): Promise<string> {
  const pending = cleanPath(path).split("/").filter((c) => c !== "");
  const resolved: string[] = [];
  let followed = 0;
  // Once a component is missing, nothing below it can exist: the rest is lexical until a
  // `..` climbs back above it. missingAt is the index of that component in `resolved`.
  let missingAt = -1;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === "" || name === ".") continue;
    if (name === "..") {
      resolved.pop();
      if (resolved.length <= missingAt) missingAt = -1;
      continue;
    }
    const candidate = "/" + [...resolved, name].join("/");
    const isFinal = pending.length === 0;
    if (missingAt >= 0 || (isFinal && !followFinal)) {
      resolved.push(name);
      continue;
    }
    const info = await lookup(candidate);
    if (info === undefined) {
      missingAt = resolved.length;
      resolved.push(name);
      continue;
    }
    if (!info.isSymlink) {
      resolved.push(name);
      continue;
    }
    if (++followed > MAX_SYMLINKS) throw new SymlinkLoopError(path);
    const target = info.linkTarget ?? "";
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/").filter((c) => c !== ""));
  }
  return "/" + resolved.join("/");
}
