// Executing a prune: under the store's exclusive gc lock, with the gc marker up (the
// lease handshake in leases.ts relies on it), remove the planned records, then the
// blobs and snapshots nothing references any more, then metadata left dangling and
// crash leftovers.
import { promises as fsp } from "node:fs";
import type { Digest } from "@tbuild/oci";
import { hasBlob } from "./blob-reader.js";
import type { CacheIndex } from "./cache-index.js";
import { writeFileAtomic } from "../util/fs-util.js";
import { lockFile } from "../util/file-lock.js";
import { selfStartTime } from "../util/process-info.js";
import { takeInventory, type Inventory } from "./inventory.js";
import { pruneKeyLists } from "./key-lists.js";
import type { Layout } from "./layout.js";
import { planPrune, stillOld, type PrunePlan, type PruneOptions, type PruneResult } from "./prune.js";
import { cleanLeftovers, emptyQuarantine } from "./recovery.js";
import { getSnapshot, removeSnapshot } from "./snapshots.js";

export function toResult(plan: PrunePlan, dryRun: boolean): PruneResult {
  return {
    dryRun,
    records: plan.records.map((r) => r.record.key),
    blobs: plan.blobs,
    snapshots: plan.snapshots,
    reclaimed: plan.reclaimed,
    sizeBefore: plan.sizeBefore,
    sizeAfter: plan.sizeBefore - plan.reclaimed,
    heldBack: plan.heldBack,
  };
}

/** Runs a prune (or computes it, for a dry run). */
export async function runPrune(layout: Layout, index: CacheIndex, opts: PruneOptions, graceMs: number): Promise<PruneResult> {
  if (opts.dryRun) {
    const inv = await takeInventory(layout, index);
    return toResult(await planPrune(layout, inv, opts, graceMs), true);
  }
  const lock = await lockFile(layout.gcLock, "exclusive");
  try {
    await writeFileAtomic(layout.gcMarker, JSON.stringify({ pid: process.pid, start: selfStartTime() }), { tmpDir: layout.tmpDir });
    const inv = await takeInventory(layout, index);
    const plan = await planPrune(layout, inv, opts, graceMs);
    const now = Date.now();
    for (const r of plan.records) {
      await index.deleteFile(r.file);
      index.forget(r.record.key);
    }
    for (const f of inv.invalidRecords) await fsp.rm(f, { force: true });
    const removed = new Set(plan.records.map((r) => r.record.key));
    const kept = new Set(inv.records.map((r) => r.record.key).filter((k) => !removed.has(k)));
    await pruneKeyLists(layout, (k) => kept.has(k));
    const blobs: Digest[] = [];
    let reclaimed = plan.reclaimed;
    for (const d of plan.blobs) {
      // A concurrent put of the same content renews the file; then it is not ours to take.
      if (!(await stillOld(layout.blob(d), graceMs, now))) {
        reclaimed -= inv.blobs.get(d)?.size ?? 0;
        continue;
      }
      await fsp.rm(layout.blob(d), { force: true });
      blobs.push(d);
    }
    for (const s of plan.snapshots) await removeSnapshot(layout, s);
    await cleanLayerRecords(layout, inv);
    await emptyQuarantine(layout);
    await cleanLeftovers(layout);
    return { ...toResult(plan, false), blobs, reclaimed, sizeAfter: plan.sizeBefore - reclaimed };
  } finally {
    await fsp.rm(layout.gcMarker, { force: true }).catch(() => undefined);
    await lock.release();
  }
}

/** Drops layer-record files whose blobs are all gone. */
async function cleanLayerRecords(layout: Layout, inv: Inventory): Promise<void> {
  for (const rec of inv.layers.values()) {
    let anyLeft = await hasBlob(layout, rec.diffID);
    for (const [c, v] of Object.entries(rec.compressed)) {
      if (v && (await hasBlob(layout, v.digest))) anyLeft = true;
      else await fsp.rm(layout.layerVariant(rec.diffID, c), { force: true });
    }
    // A bottom snapshot has chain ID = diffID; keeping its small record is harmless.
    if (!anyLeft && !(await getSnapshot(layout, rec.diffID))) {
      await fsp.rm(layout.layer(rec.diffID), { force: true });
    }
  }
}
