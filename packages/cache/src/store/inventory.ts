// A snapshot of what the store holds and what references what — the input of gc,
// prune and du. Reachability follows the roots:
//   image record → manifest (or index → manifests) → config + layer blobs;
//   config diff_ids → layer records (compressed variants) and snapshots by chain ID;
//   cache record → its refs (a diffID also keeps its compressed variants; a snapshot
//   keeps its parents); live leases → their items.
import { promises as fsp } from "node:fs";
import type { Digest } from "@tbuild/oci";
import { chainIDs, isDigest } from "../util/digest.js";
import { treeDiskUsage } from "../util/disk-usage.js";
import { readJsonFile } from "../util/fs-util.js";
import { readBlob } from "./blob-reader.js";
import type { CacheIndex, ListedRecord } from "./cache-index.js";
import { listImages, type ImageRecord } from "./images.js";
import { listLayers, type LayerRecord } from "./layers.js";
import type { Layout } from "./layout.js";
import { readLiveLeases } from "./leases.js";
import type { SnapshotInfo } from "./snapshots.js";

export interface BlobItem {
  size: number;
  /** Last write (rename) time; fresh blobs are protected by the grace period. */
  mtimeMs: number;
}

export interface SnapshotItem {
  size: number;
  createdMs: number;
  parent?: Digest;
  diffID?: Digest;
  /** False for a directory without valid metadata (never produced by a commit). */
  valid: boolean;
}

export interface Inventory {
  blobs: Map<Digest, BlobItem>;
  snapshots: Map<Digest, SnapshotItem>;
  layers: Map<Digest, LayerRecord & { files: string[] }>;
  /** Compressed blob digest → diffID. */
  byCompressed: Map<Digest, Digest>;
  images: ImageRecord[];
  records: ListedRecord[];
  invalidRecords: string[];
  leased: { blobs: Set<Digest>; snapshots: Set<Digest> };
  indexSize: number;
}

/** Sets of reachable items. */
export class Marks {
  readonly blobs = new Set<Digest>();
  readonly snapshots = new Set<Digest>();
}

async function scanBlobs(layout: Layout): Promise<Map<Digest, BlobItem>> {
  const out = new Map<Digest, BlobItem>();
  const names = await fsp.readdir(layout.blobsDir);
  await Promise.all(
    names.map(async (n) => {
      const d = `sha256:${n}`;
      if (!isDigest(d)) return;
      const st = await fsp.stat(layout.blob(d)).catch(() => undefined);
      if (st) out.set(d, { size: st.size, mtimeMs: st.mtimeMs });
    }),
  );
  return out;
}

async function scanSnapshots(layout: Layout): Promise<Map<Digest, SnapshotItem>> {
  const out = new Map<Digest, SnapshotItem>();
  const names = await fsp.readdir(layout.snapshotsDir);
  for (const n of names) {
    const id = `sha256:${n}`;
    if (!isDigest(id)) continue;
    const meta = await readJsonFile<SnapshotInfo>(layout.snapshotMeta(id));
    if (meta && meta.chainID === id && typeof meta.size === "number") {
      out.set(id, {
        size: meta.size,
        createdMs: Date.parse(meta.created) || 0,
        ...(isDigest(meta.parent) ? { parent: meta.parent } : {}),
        ...(isDigest(meta.diffID) ? { diffID: meta.diffID } : {}),
        valid: true,
      });
    } else {
      const st = await fsp.lstat(layout.snapshotDir(id)).catch(() => undefined);
      if (!st) continue;
      out.set(id, { size: await treeDiskUsage(layout.snapshotDir(id)), createdMs: st.mtimeMs, valid: false });
    }
  }
  return out;
}

/** Reads everything gc, prune and du need. */
export async function takeInventory(layout: Layout, index: CacheIndex): Promise<Inventory> {
  const [blobs, snapshots, layers, images, listed, leased, keyLists] = await Promise.all([
    scanBlobs(layout),
    scanSnapshots(layout),
    listLayers(layout),
    listImages(layout),
    index.list(),
    readLiveLeases(layout),
    treeDiskUsage(layout.keyListsDir).catch(() => 0),
  ]);
  const byCompressed = new Map<Digest, Digest>();
  for (const l of layers.values()) for (const v of Object.values(l.compressed)) if (v) byCompressed.set(v.digest, l.diffID);
  // The index is the cache records plus the key lists that explain misses (key-lists.ts).
  const indexSize = listed.records.reduce((s, r) => s + r.size, keyLists);
  return { blobs, snapshots, layers, byCompressed, images, records: listed.records, invalidRecords: listed.invalid, leased, indexSize };
}

/** Marks a blob; a diffID also keeps its compressed variants. */
export function markBlob(inv: Inventory, marks: Marks, d: Digest): void {
  if (marks.blobs.has(d)) return;
  marks.blobs.add(d);
  const layer = inv.layers.get(d);
  if (layer) for (const v of Object.values(layer.compressed)) if (v) marks.blobs.add(v.digest);
}

/** Marks a snapshot and every parent below it. */
export function markSnapshot(inv: Inventory, marks: Marks, id: Digest): void {
  let cur: Digest | undefined = id;
  while (cur && !marks.snapshots.has(cur)) {
    marks.snapshots.add(cur);
    cur = inv.snapshots.get(cur)?.parent;
  }
}

function markLayer(inv: Inventory, marks: Marks, diffID: Digest): void {
  markBlob(inv, marks, diffID);
}

/** Marks what one record needs. */
export function markRecord(inv: Inventory, marks: Marks, rec: ListedRecord): void {
  for (const b of rec.record.refs.blobs) markBlob(inv, marks, b);
  for (const s of rec.record.refs.snapshots) markSnapshot(inv, marks, s);
}

async function readJsonBlob(layout: Layout, d: Digest): Promise<Record<string, unknown> | undefined> {
  try {
    const v = JSON.parse((await readBlob(layout, d)).toString("utf8")) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  } catch {
    // Missing, corrupt (now quarantined) or not JSON: nothing more is reachable from it.
    return undefined;
  }
}

/** Marks everything reachable from a manifest or index blob. */
export async function markManifest(layout: Layout, inv: Inventory, marks: Marks, d: Digest, depth = 0): Promise<void> {
  if (depth > 8 || marks.blobs.has(d)) return;
  marks.blobs.add(d);
  const doc = await readJsonBlob(layout, d);
  if (!doc) return;
  if (Array.isArray(doc.manifests)) {
    for (const m of doc.manifests as { digest?: unknown }[]) {
      if (isDigest(m?.digest)) await markManifest(layout, inv, marks, m.digest, depth + 1);
    }
    return;
  }
  const config = (doc.config as { digest?: unknown } | undefined)?.digest;
  if (isDigest(config)) {
    marks.blobs.add(config);
    const cfg = await readJsonBlob(layout, config);
    const diffIDs = ((cfg?.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids ?? []) as unknown[];
    if (Array.isArray(diffIDs) && diffIDs.every(isDigest)) {
      for (const id of diffIDs) markLayer(inv, marks, id);
      for (const c of chainIDs(diffIDs)) markSnapshot(inv, marks, c);
    }
  }
  for (const l of (Array.isArray(doc.layers) ? doc.layers : []) as { digest?: unknown }[]) {
    if (!isDigest(l?.digest)) continue;
    marks.blobs.add(l.digest);
    const diffID = inv.byCompressed.get(l.digest);
    if (diffID) markLayer(inv, marks, diffID);
  }
}

/** Everything reachable from tagged images. */
export async function markImages(layout: Layout, inv: Inventory): Promise<Marks> {
  const marks = new Marks();
  for (const img of inv.images) if (isDigest(img.manifest)) await markManifest(layout, inv, marks, img.manifest);
  return marks;
}
