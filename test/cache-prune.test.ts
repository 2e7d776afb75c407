// Pruning from another process: tagged images keep everything they reach (manifest,
// config, compressed layers, layer records, snapshots by chain ID); a storage budget
// removes the least recently used cache records first.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { chainIDs, Store, type PruneResult } from "@tbuild/cache";
import { buildCachePackage, runWorker } from "./fixtures-cache/run.js";

let root: string;
beforeAll(() => buildCachePackage());
beforeEach(() => {
  root = mkdtempSync("/dev/shm/tbuild-cache-prune-");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sha = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}` as const;

async function tagImage(store: Store, name: string, layers: string[]) {
  const diffIDs = layers.map(sha);
  const ids = chainIDs(diffIDs);
  const gz = [];
  for (let i = 0; i < layers.length; i++) {
    const b = await store.putBlob(`gzip:${layers[i]}`);
    gz.push(b.digest);
    await store.putLayer(diffIDs[i]!, layers[i]!.length);
    await store.putLayerVariant(diffIDs[i]!, "gzip", b);
    const d = await store.prepareSnapshot();
    writeFileSync(path.join(d.path, `layer${i}`), layers[i]!);
    await store.commitSnapshot(d, ids[i]!, { diffID: diffIDs[i]!, ...(i ? { parent: ids[i - 1]! } : {}) });
  }
  const config = await store.putBlob(JSON.stringify({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: diffIDs } }));
  const manifest = await store.putBlob(
    JSON.stringify({ schemaVersion: 2, config: { digest: config.digest, size: config.size }, layers: gz.map((digest) => ({ digest, size: 1 })) }),
  );
  await store.putImage(name, { manifest: manifest.digest });
  return { blobs: [manifest.digest, config.digest, ...gz], snapshots: ids, diffIDs };
}

async function step(store: Store, key: string, kb: number, ageMinutes: number) {
  const b = await store.putBlob(Buffer.alloc(kb * 1024, key));
  const d = await store.prepareSnapshot();
  writeFileSync(path.join(d.path, "out"), Buffer.alloc(kb * 1024, key));
  const snap = sha(`snap:${key}`);
  await store.commitSnapshot(d, snap);
  await store.record(key, { value: key, refs: { blobs: [b.digest], snapshots: [snap] } });
  const t = new Date(Date.now() - ageMinutes * 60_000);
  utimesSync(store.layout.record(key), t, t);
  return { blob: b.digest, snap };
}

it("tagged images survive --all; the storage budget drops least recently used records first", async () => {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  const img = await tagImage(store, "app:latest", ["base-layer", "deps-layer", "app-layer"]);
  const steps = {
    oldest: await step(store, "oldest", 64, 300),
    old: await step(store, "old", 64, 200),
    recent: await step(store, "recent", 64, 10),
    newest: await step(store, "newest", 64, 1),
  };
  const du = await store.du();
  expect(du.blobs.shared).toBeGreaterThan(0);
  expect(du.blobs.exclusive).toBe(4 * 64 * 1024);

  // Budget: everything minus roughly two steps' worth.
  const budget = du.total - 2 * (64 * 1024 + (await store.getSnapshot(steps.old.snap))!.size) + 1;
  const res = JSON.parse(await runWorker(["prune", root, JSON.stringify({ keepStorage: budget })])) as PruneResult;
  expect(res.records).toEqual(["oldest", "old"]);
  expect(res.sizeAfter).toBeLessThanOrEqual(budget);
  expect(await store.hasBlob(steps.oldest.blob)).toBe(false);
  expect(await store.hasSnapshot(steps.old.snap)).toBe(false);
  expect(await store.hasBlob(steps.newest.blob)).toBe(true);

  const all = JSON.parse(await runWorker(["prune", root, JSON.stringify({ all: true })])) as PruneResult;
  expect(all.records.sort()).toEqual(["newest", "recent"]);
  for (const d of img.blobs) expect(await store.verifyBlob(d)).toBe(true);
  for (const s of img.snapshots) expect(await store.hasSnapshot(s)).toBe(true);
  for (const d of img.diffIDs) expect((await store.getLayer(d))?.compressed.gzip).toBeDefined();
  const after = await store.du();
  expect(after.index.count).toBe(0);
  expect(after.blobs.exclusive + after.blobs.unreferenced).toBe(0);
  expect(after.total).toBe(after.blobs.shared + after.snapshots.shared);
  await store.close();
});
