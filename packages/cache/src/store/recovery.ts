// Crash recovery: everything a killed process can leave behind is in tmp/ (partial
// blobs, snapshot drafts, half-deleted snapshots, temp files of atomic writes) or is
// a lease file, and all of them carry the owner's pid and start time. On open and at
// every gc, leftovers of processes that are gone are deleted; live owners' files are
// never touched.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { removeTree } from "../util/fs-util.js";
import { isOwnerAlive, processStartTime } from "../util/process-info.js";
import type { Layout } from "./layout.js";

/** Files in tmp/ without an owner tag are removed once they are this old. */
const FOREIGN_TMP_MAX_AGE_MS = 24 * 3600 * 1000;

/** Removes tmp/ leftovers of dead processes; returns the names removed. */
export async function cleanLeftovers(layout: Layout): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fsp.readdir(layout.tmpDir);
  } catch {
    return removed;
  }
  const now = Date.now();
  for (const n of names) {
    // "<pid>.<start>.…" (our temp names) or "<pid>.…" (a caller's own temp dir).
    const m = /^(\d+)\.(?:(\d+)\.)?/.exec(n);
    const p = path.join(layout.tmpDir, n);
    if (m) {
      const pid = Number(m[1]);
      if (m[2] !== undefined ? isOwnerAlive(pid, m[2]) : processStartTime(pid) !== undefined) continue;
    } else {
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st || now - st.mtimeMs < FOREIGN_TMP_MAX_AGE_MS) continue;
    }
    await removeTree(p);
    removed.push(n);
  }
  return removed;
}

/** Removes everything in quarantine/ (corrupt blobs kept only for inspection). */
export async function emptyQuarantine(layout: Layout): Promise<number> {
  const names = await fsp.readdir(layout.quarantineDir).catch(() => [] as string[]);
  for (const n of names) await removeTree(path.join(layout.quarantineDir, n));
  return names.length;
}
