// The build-context index that @tbuild/cache produces (hashContext). Declared here with the
// agreed shape until the cache package exports it; only `root` and `entries()` are used by
// the file operations, the rest is for cache keys.
import type { Digest } from "@tbuild/oci";

export interface ContextEntry {
  /** Relative, "/"-separated path ("" or "." may name the root). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  linkTarget?: string;
  dev: number;
  ino: number;
}

export interface ContextIndex {
  /** The context directory on the host. */
  readonly root: string;
  /** Every entry not excluded by .dockerignore. */
  entries(): ReadonlyMap<string, ContextEntry>;
  get(path: string): ContextEntry | undefined;
  children(dirPath: string): string[];
  contentHash(path: string): Promise<Digest>;
  digest(paths: string[], opts?: { excludes?: string[] }): Promise<Digest>;
}
