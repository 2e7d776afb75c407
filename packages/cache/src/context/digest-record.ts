// What a context digest is made of: its version, then one record per selected entry in path
// order. The digest (context-index.ts) and the memo's directory contents (memo-coverage.ts)
// both take entries this way, so that "the same content" means the same to both.
import type { ContextEntry } from "./walk.js";

export const DIGEST_VERSION = "tbuild-context-digest/v1";

/**
 * One entry's record: path, type, mode, owner, size and content (a file's hash, a symlink's
 * target). NUL cannot occur in paths or link targets, so the encoding is unambiguous.
 */
export function digestRecord(e: ContextEntry, fileHash: string | undefined): string {
  const content = e.type === "file" ? fileHash! : e.type === "symlink" ? e.linkTarget! : "";
  return `${e.path}\0${e.type}\0${e.mode.toString(8)}\0${e.uid}\0${e.gid}\0${e.type === "file" ? e.size : 0}\0${content}\0`;
}
