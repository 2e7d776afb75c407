// Snapshots: unpacked layer trees keyed by chain ID. A snapshot is filled in a draft
// directory under tmp/ and appears by one rename, so a snapshot that exists is
// complete; when two processes commit the same chain ID, the first rename wins and
// the loser's draft is discarded — both end up using the same directory.
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { digestHex, isDigest } from "../util/digest.js";
import { treeDiskUsage } from "../util/disk-usage.js";
import { errno, fsyncDir, readJsonFile, removeTree, tempName, writeFileAtomic } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

/** Metadata kept beside each snapshot tree. */
export interface SnapshotInfo {
  chainID: Digest;
  /** Chain ID of the snapshot below this one; gc keeps parents of kept snapshots. */
  parent?: Digest;
  /** The layer this snapshot adds on top of `parent`. */
  diffID?: Digest;
  /** Bytes allocated by the tree. */
  size: number;
  /** ISO time of the commit. */
  created: string;
}

/** A snapshot being filled: write the tree into `path`, then commit or abort it. */
export interface SnapshotDraft {
  /** The directory to fill (becomes `snapshotPath(chainID)` on commit). */
  readonly path: string;
  /** The draft's container directory under tmp/ (internal). */
  readonly dir: string;
}

export interface CommitSnapshotOptions {
  parent?: Digest;
  diffID?: Digest;
  /** Allocated size if the caller knows it; otherwise the tree is measured. */
  size?: number;
}

/** Result of a commit: where the snapshot lives and whether our draft became it. */
export interface CommittedSnapshot {
  path: string;
  info: SnapshotInfo;
  /** False when another process committed the same chain ID first (our draft was discarded). */
  created: boolean;
}

/** Creates an empty draft under tmp/. */
export async function prepareSnapshot(layout: Layout): Promise<SnapshotDraft> {
  const dir = path.join(layout.tmpDir, tempName("snap"));
  await fsp.mkdir(path.join(dir, "fs"), { recursive: true, mode: 0o755 });
  return { dir, path: path.join(dir, "fs") };
}

/** Flushes the filesystem holding `dir` (syncfs(2) via coreutils `sync -f`). */
async function syncFilesystem(dir: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn("sync", ["-f", dir], { stdio: "ignore" });
    child.on("error", () => resolve());
    child.on("close", () => resolve());
  });
}

/**
 * Commits a draft as the snapshot `chainID`. With `durable`, the filesystem is synced
 * before the rename so that a power loss cannot leave a committed but empty tree.
 */
export async function commitSnapshot(
  layout: Layout,
  draft: SnapshotDraft,
  chainID: Digest,
  opts: CommitSnapshotOptions & { durable: boolean },
): Promise<CommittedSnapshot> {
  digestHex(chainID);
  if (opts.parent !== undefined) digestHex(opts.parent);
  if (opts.diffID !== undefined) digestHex(opts.diffID);
  if (path.dirname(draft.dir) !== layout.tmpDir || draft.path !== path.join(draft.dir, "fs")) {
    throw new CacheError("ERR_BAD_DRAFT", `not a snapshot draft of this store: ${draft.dir}`);
  }
  const target = layout.snapshotDir(chainID);
  const existing = await getSnapshot(layout, chainID);
  if (existing) {
    await removeTree(draft.dir);
    return { path: layout.snapshotFs(chainID), info: existing, created: false };
  }
  const info: SnapshotInfo = {
    chainID,
    ...(opts.parent ? { parent: opts.parent } : {}),
    ...(opts.diffID ? { diffID: opts.diffID } : {}),
    size: opts.size ?? (await treeDiskUsage(draft.path)),
    created: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(draft.dir, "snapshot.json"), JSON.stringify(info));
  if (opts.durable) await syncFilesystem(draft.dir);
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(draft.dir, target);
      break;
    } catch (e) {
      const code = errno(e);
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt > 0) {
        await removeTree(draft.dir);
        throw e;
      }
      // Another process won the race: use its snapshot — unless what is there has no
      // valid metadata (damaged by hand or by a power loss), which we move aside.
      const winner = await getSnapshot(layout, chainID);
      if (winner) {
        await removeTree(draft.dir);
        return { path: layout.snapshotFs(chainID), info: winner, created: false };
      }
      await removeSnapshot(layout, chainID);
    }
  }
  if (opts.durable) await fsyncDir(layout.snapshotsDir);
  return { path: layout.snapshotFs(chainID), info, created: true };
}

/** Metadata of a committed snapshot, or undefined when there is none. */
export async function getSnapshot(layout: Layout, chainID: Digest): Promise<SnapshotInfo | undefined> {
  const info = await readJsonFile<SnapshotInfo>(layout.snapshotMeta(chainID));
  if (info && info.chainID === chainID) return info;
  // A directory without readable metadata cannot come from a commit (the metadata is
  // written before the rename); treat it as absent.
  return undefined;
}

/** Chain IDs of every snapshot directory. */
export async function listSnapshots(layout: Layout): Promise<Digest[]> {
  const names = await fsp.readdir(layout.snapshotsDir);
  return names.map((n) => `sha256:${n}`).filter(isDigest);
}

/**
 * Removes a snapshot: renamed into tmp/ first (it disappears atomically), then deleted.
 * A crash mid-delete leaves a tmp/ leftover that the next open cleans.
 */
export async function removeSnapshot(layout: Layout, chainID: Digest): Promise<void> {
  const doomed = path.join(layout.tmpDir, tempName("del"));
  try {
    await fsp.rename(layout.snapshotDir(chainID), doomed);
  } catch (e) {
    if (errno(e) === "ENOENT") return;
    throw e;
  }
  await removeTree(doomed);
}
