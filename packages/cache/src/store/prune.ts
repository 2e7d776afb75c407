// Pruning and disk usage. One planner serves three callers: `prune` (execute the
// plan), `prune({ dryRun })` (report it) and `du` (report sizes and what `--all` would
// free). Tagged images and live leases are never pruned; neither is anything younger
// than the grace period (it may belong to a build that has not recorded it yet).
import { promises as fsp } from "node:fs";
import type { Digest } from "@tbuild/oci";
import { errno } from "../util/fs-util.js";
import type { ListedRecord } from "./cache-index.js";
import { markImages, markRecord, Marks, type Inventory } from "./inventory.js";
import type { Layout } from "./layout.js";

/** What to prune. With no option, only garbage (unreferenced items, broken records) goes. */
export interface PruneOptions {
  /** Remove every cache record (tagged images and their layers stay). */
  all?: boolean;
  /** Then remove least-recently-used records until the store is at most this many bytes. */
  keepStorage?: number;
  /** Remove records not used since this time, or for this long (ms, or "24h", "30m", "7d"). */
  until?: Date | number | string;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
}

/** What a prune removed (or would remove, for a dry run). */
export interface PruneResult {
  dryRun: boolean;
  /** Keys of removed cache records. */
  records: string[];
  blobs: Digest[];
  snapshots: Digest[];
  /** Bytes freed (blobs + snapshots + record files). */
  reclaimed: number;
  /** Store size before and after (bytes). */
  sizeBefore: number;
  sizeAfter: number;
  /** Unreferenced items kept only because they are younger than the gc grace period. */
  heldBack: HeldBack;
}

/** What the gc grace period kept: items nothing else keeps, too young to remove. */
export interface HeldBack {
  count: number;
  size: number;
  /** The grace period in ms (TBUILD_GC_GRACE in the CLI). */
  gracePeriodMs: number;
}

/** One blob or snapshot, for `du --verbose`. */
export interface UsageItem {
  kind: "blob" | "snapshot";
  digest: Digest;
  size: number;
  /** shared: a tagged image uses it; exclusive: only cache records; unreferenced: nothing. */
  state: "shared" | "exclusive" | "unreferenced";
  /** Younger than the grace period, so a prune would keep it now. */
  fresh: boolean;
}

/** Sizes of one kind of item. `shared` = reachable from a tagged image; `exclusive` = only from cache records. */
export interface UsageByKind {
  count: number;
  size: number;
  shared: number;
  exclusive: number;
  /** Referenced by nothing (or only by a live lease). */
  unreferenced: number;
}

/** What the store uses on disk. */
export interface DiskUsage {
  blobs: UsageByKind;
  snapshots: UsageByKind;
  index: { count: number; size: number };
  images: number;
  total: number;
  /** Bytes `prune({ all: true })` would free now. */
  reclaimable: number;
  /** What `prune({ all: true })` would keep now only because of the grace period. */
  heldBack: HeldBack;
  /** Every blob and snapshot, when asked for (`du({ items: true })`). */
  items?: UsageItem[];
}

/** Parses "90s", "30m", "24h", "7d", "1w" or a number of milliseconds. */
export function parseDuration(v: number | string): number {
  if (typeof v === "number") return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(v);
  if (!m) throw new Error(`invalid duration ${JSON.stringify(v)} (use e.g. 30m, 24h, 7d)`);
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * unit;
}

export interface PrunePlan {
  records: ListedRecord[];
  blobs: Digest[];
  snapshots: Digest[];
  reclaimed: number;
  sizeBefore: number;
  imageMarks: Marks;
  /** Items that would go but for the grace period. */
  heldBack: HeldBack;
}

/** Decides what a prune removes. Pure apart from reading image manifests. */
export async function planPrune(layout: Layout, inv: Inventory, opts: PruneOptions, graceMs: number, now = Date.now()): Promise<PrunePlan> {
  const imageMarks = await markImages(layout, inv);
  const pinnedBlob = (d: Digest) => imageMarks.blobs.has(d) || inv.leased.blobs.has(d);
  const pinnedSnap = (d: Digest) => imageMarks.snapshots.has(d) || inv.leased.snapshots.has(d);
  // Leased snapshots keep their parents too.
  const leaseMarks = new Marks();
  for (const s of inv.leased.snapshots) {
    let cur: Digest | undefined = s;
    while (cur && !leaseMarks.snapshots.has(cur)) {
      leaseMarks.snapshots.add(cur);
      cur = inv.snapshots.get(cur)?.parent;
    }
  }

  // Reference counts from cache records.
  const closures = new Map<ListedRecord, Marks>();
  const blobRefs = new Map<Digest, number>();
  const snapRefs = new Map<Digest, number>();
  for (const r of inv.records) {
    const m = new Marks();
    markRecord(inv, m, r);
    closures.set(r, m);
    for (const b of m.blobs) blobRefs.set(b, (blobRefs.get(b) ?? 0) + 1);
    for (const s of m.snapshots) snapRefs.set(s, (snapRefs.get(s) ?? 0) + 1);
  }

  const blobOld = (d: Digest) => now - (inv.blobs.get(d)?.mtimeMs ?? now) >= graceMs;
  const snapOld = (d: Digest) => now - (inv.snapshots.get(d)?.createdMs ?? now) >= graceMs;
  const freeBlobs: Digest[] = [];
  const freeSnaps: Digest[] = [];
  let reclaimed = 0;
  // Separate sets: the first chain ID of a stack equals its first diffID.
  const freedBlobs = new Set<Digest>();
  const freedSnaps = new Set<Digest>();
  // Held back by the grace period alone (and not freed later in the same plan).
  const heldBlobs = new Map<Digest, number>();
  const heldSnaps = new Map<Digest, number>();
  const tryFreeBlob = (d: Digest) => {
    const item = inv.blobs.get(d);
    if (!item || freedBlobs.has(d) || (blobRefs.get(d) ?? 0) > 0 || pinnedBlob(d)) return;
    if (!blobOld(d)) return void heldBlobs.set(d, item.size);
    freedBlobs.add(d);
    freeBlobs.push(d);
    reclaimed += item.size;
  };
  const tryFreeSnap = (d: Digest) => {
    const item = inv.snapshots.get(d);
    if (!item || freedSnaps.has(d) || (snapRefs.get(d) ?? 0) > 0 || pinnedSnap(d) || leaseMarks.snapshots.has(d)) return;
    if (!snapOld(d)) return void heldSnaps.set(d, item.size);
    freedSnaps.add(d);
    freeSnaps.push(d);
    reclaimed += item.size;
  };

  const removed: ListedRecord[] = [];
  const removeRecord = (r: ListedRecord) => {
    removed.push(r);
    reclaimed += r.size;
    const m = closures.get(r)!;
    for (const b of m.blobs) {
      blobRefs.set(b, (blobRefs.get(b) ?? 1) - 1);
      tryFreeBlob(b);
    }
    for (const s of m.snapshots) {
      snapRefs.set(s, (snapRefs.get(s) ?? 1) - 1);
      tryFreeSnap(s);
    }
  };

  // 1. Garbage: items nothing references.
  for (const d of inv.blobs.keys()) tryFreeBlob(d);
  for (const d of inv.snapshots.keys()) tryFreeSnap(d);

  // 2. Records chosen by the options, plus broken ones (a ref is gone: they can never hit).
  const cutoff =
    opts.until === undefined ? undefined : opts.until instanceof Date ? opts.until.getTime() : now - parseDuration(opts.until);
  const keep: ListedRecord[] = [];
  for (const r of inv.records) {
    const broken =
      r.record.refs.blobs.some((b) => !inv.blobs.has(b)) || r.record.refs.snapshots.some((s) => !inv.snapshots.has(s));
    if (opts.all || broken || (cutoff !== undefined && r.record.lastUsed.getTime() < cutoff)) removeRecord(r);
    else keep.push(r);
  }

  // 3. Size budget: least recently used first.
  const sizeBefore = storeSize(inv);
  if (opts.keepStorage !== undefined) {
    keep.sort((a, b) => a.record.lastUsed.getTime() - b.record.lastUsed.getTime());
    for (const r of keep) {
      if (sizeBefore - reclaimed <= opts.keepStorage) break;
      removeRecord(r);
    }
  }
  const held = [...heldBlobs.values(), ...heldSnaps.values()];
  const heldBack = { count: held.length, size: held.reduce((a, b) => a + b, 0), gracePeriodMs: graceMs };
  return { records: removed, blobs: freeBlobs, snapshots: freeSnaps, reclaimed, sizeBefore, imageMarks, heldBack };
}

/** Bytes held by blobs, snapshots and the index. */
export function storeSize(inv: Inventory): number {
  let s = inv.indexSize;
  for (const b of inv.blobs.values()) s += b.size;
  for (const sn of inv.snapshots.values()) s += sn.size;
  return s;
}

/** Computes disk usage with shared/exclusive classification. */
export async function computeUsage(layout: Layout, inv: Inventory, graceMs: number, opts: { items?: boolean } = {}): Promise<DiskUsage> {
  const now = Date.now();
  const plan = await planPrune(layout, inv, { all: true }, graceMs, now);
  const items: UsageItem[] = [];
  const state = (image: boolean, record: boolean) => (image ? "shared" : record ? "exclusive" : "unreferenced") as UsageItem["state"];
  const recordMarks = new Marks();
  for (const r of inv.records) markRecord(inv, recordMarks, r);
  const blobs: UsageByKind = { count: 0, size: 0, shared: 0, exclusive: 0, unreferenced: 0 };
  for (const [d, b] of inv.blobs) {
    blobs.count++;
    blobs.size += b.size;
    if (plan.imageMarks.blobs.has(d)) blobs.shared += b.size;
    else if (recordMarks.blobs.has(d)) blobs.exclusive += b.size;
    else blobs.unreferenced += b.size;
    if (opts.items) items.push({ kind: "blob", digest: d, size: b.size, state: state(plan.imageMarks.blobs.has(d), recordMarks.blobs.has(d)), fresh: now - b.mtimeMs < graceMs });
  }
  const snapshots: UsageByKind = { count: 0, size: 0, shared: 0, exclusive: 0, unreferenced: 0 };
  for (const [d, s] of inv.snapshots) {
    snapshots.count++;
    snapshots.size += s.size;
    if (plan.imageMarks.snapshots.has(d)) snapshots.shared += s.size;
    else if (recordMarks.snapshots.has(d)) snapshots.exclusive += s.size;
    else snapshots.unreferenced += s.size;
    if (opts.items) items.push({ kind: "snapshot", digest: d, size: s.size, state: state(plan.imageMarks.snapshots.has(d), recordMarks.snapshots.has(d)), fresh: now - s.createdMs < graceMs });
  }
  return {
    blobs,
    snapshots,
    index: { count: inv.records.length, size: inv.indexSize },
    images: inv.images.length,
    total: storeSize(inv),
    reclaimable: plan.reclaimed,
    heldBack: plan.heldBack,
    ...(opts.items ? { items } : {}),
  };
}

/** Re-checks a blob's age right before deleting it: a concurrent put may have just renewed it. */
export async function stillOld(file: string, graceMs: number, now = Date.now()): Promise<boolean> {
  try {
    const st = await fsp.stat(file);
    return now - st.mtimeMs >= graceMs;
  } catch (e) {
    if (errno(e) === "ENOENT") return false;
    throw e;
  }
}
