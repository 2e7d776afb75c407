// Copies one selected source (a file, symlink or directory with its contents) to its place
// in the layer, with fsutil's rules: nested directories that already exist take the
// source's metadata; a non-directory never replaces a directory; hard links among the
// files of one source stay hard links; --chown replaces owners, --chmod modes (not of
// symlinks). File contents are copied in parallel (copy_file_range through fs.copyFile).
import { joinPath } from "../fs/container-path.js";
import type { ChmodFn } from "./chmod.js";
import { FileOpError } from "./errors.js";
import type { EntryMeta, LayerWriter } from "./layer-writer.js";
import type { SelectedSource } from "./select.js";
import type { SourceEntry, SourceTree } from "./source-tree.js";
import type { Owner } from "./users.js";

/** Files copied at once: enough to keep the disk and the thread pool busy, bounded for memory and fds. */
const FILE_CONCURRENCY = 32;

export interface CopyPolicy {
  chown?: Owner;
  chmod?: ChmodFn;
  signal?: AbortSignal;
}

/** Runs promises with bounded concurrency; the first failure is thrown once the running ones settle. */
class Pool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(task: () => Promise<void>): Promise<void> {
    if (this.failure) return;
    while (this.running.size >= this.limit) await Promise.race(this.running);
    const p: Promise<void> = task().catch((e: unknown) => {
      this.failure ??= { error: e };
    }).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }
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
 * contents merge into; otherwise the path the entry takes.
 */
export async function copySelected(tree: SourceTree, sel: SelectedSource, target: string, writer: LayerWriter, policy: CopyPolicy): Promise<void> {
  const pool = new Pool(FILE_CONCURRENCY);
  // First written path of each inode, to hard-link the later ones to it once it is written.
  const firstOfInode = new Map<string, { path: string; done: Promise<void> }>();
  for (const item of sel.items) {
    if (pool.failed) break;
    if (policy.signal?.aborted) {
      await pool.drain().catch(() => {});
      throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: policy.signal.reason });
    }
    const { entry } = item;
    const dest = item.rel === "" ? target : joinPath(target, item.rel);
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
      if (first) {
        await pool.add(async () => {
          await first.done;
          await writer.hardlink(dest, first.path);
        });
        continue;
      }
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      firstOfInode.set(entry.inode, { path: dest, done });
      await pool.add(() =>
        writer.writeFile(dest, meta, entry.size, (host) => tree.copyFileTo(entry, host), entry.mode).finally(settle),
      );
    } else if (entry.type === "symlink") {
      await pool.add(() => writer.symlink(dest, entry.linkTarget ?? "", meta));
    } else {
      await pool.add(() => writer.special(dest, entry.type as "char" | "block" | "fifo", entry.rdev, meta));
    }
  }
  await pool.drain();
}
