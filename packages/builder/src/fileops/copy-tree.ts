// Copies one selected source (a file, symlink or directory with its contents) to its place
// in the layer, with fsutil's rules: nested directories that already exist take the
// source's metadata; a non-directory never replaces a directory; hard links among the
// files of one source stay hard links; --chown replaces owners, --chmod modes (not of
// symlinks). File contents are copied by worker threads (copy-workers.ts).
import { joinPath } from "../fs/container-path.js";
import type { ChmodFn } from "./chmod.js";
import { FileOpError } from "./errors.js";
import type { EntryMeta, LayerWriter } from "./layer-writer.js";
import type { SelectedSource } from "./select.js";
import { TaskBatcher } from "./copy-workers.js";
import type { SourceEntry, SourceTree } from "./source-tree.js";
import type { Owner } from "./users.js";

export interface CopyPolicy {
  chown?: Owner;
  chmod?: ChmodFn;
  signal?: AbortSignal;
}

export async function entryMeta(tree: SourceTree, entry: SourceEntry, policy: CopyPolicy): Promise<EntryMeta> {
  return {
    mode: policy.chmod && entry.type !== "symlink" ? policy.chmod(entry.mode, entry.type === "dir") : entry.mode,
    uid: policy.chown?.uid ?? entry.uid,
    gid: policy.chown?.gid ?? entry.gid,
    mtimeNs: entry.mtimeNs,
    xattrs: await tree.xattrs(entry),
  };
}

/**
 * Writes `sel` at `target`: for a directory root, `target` is the (existing) directory its
 * contents merge into; otherwise the path the entry takes. Directories are made here, in
 * order; files and symlinks go to the copy workers in batches; hard links come last.
 */
export async function copySelected(tree: SourceTree, sel: SelectedSource, target: string, writer: LayerWriter, policy: CopyPolicy): Promise<void> {
  const batcher = new TaskBatcher();
  // First destination of each inode; later ones become hard links to it.
  const firstOfInode = new Map<string, string>();
  const links: [string, string][] = [];
  let failed = false;
  try {
    for (const item of sel.items) {
      if (policy.signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: policy.signal.reason });
      const { entry } = item;
      const dest = item.rel === "" ? target : joinPath(target, item.rel);
      const name = entry.path === "/" ? "/" : entry.path.slice(1);
      if (entry.type === "dir") {
        if (item.rel === "") {
          // fsutil leaves the top directory's mode and owner alone but gives it the source's mtime.
          writer.setDirTime(dest, entry.mtimeNs);
          continue;
        }
        await writer.copyDir(dest, await entryMeta(tree, entry, policy), item.role === "copy");
        continue;
      }
      if (entry.type === "socket") continue; // cannot be recreated meaningfully; BuildKit's context has none
      const meta = await entryMeta(tree, entry, policy);
      if (entry.type === "file") {
        const first = firstOfInode.get(entry.inode);
        if (first !== undefined) {
          links.push([dest, first]);
          continue;
        }
        firstOfInode.set(entry.inode, dest);
        const plan = await writer.reserve(dest, "file", meta, entry.size, entry.mode);
        await batcher.add({ op: "copy", ...tree.fileSource(entry), ...plan, name }, entry.size);
      } else if (entry.type === "symlink") {
        const target = entry.linkTarget ?? "";
        const plan = await writer.reserve(dest, "symlink", meta, 0, undefined, target);
        await batcher.add({ op: "symlink", target, ...plan, name }, 0);
      } else {
        await writer.special(dest, entry.type, entry.rdev, meta);
      }
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // Never leave workers writing into the layer after returning, even on failure; an error
    // of the loop itself takes precedence over one of the batches.
    const drained = batcher.drain();
    if (failed) await drained.catch(() => {});
    else await drained;
  }
  for (const [dest, first] of links) await writer.hardlink(dest, first);
}
