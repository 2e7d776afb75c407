import { mkdirSync, promises as fsp, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Digest } from "../util/digest.js";
import { ownerTag } from "../util/process-info.js";
import { deadPid, makeImage } from "../test-support/fixtures.js";
import { scratchDir } from "../test-support/tmp.js";
import { parseLeaseFile } from "./leases.js";
import { parseDuration } from "./prune.js";
import { Store } from "./store.js";

let tmp: ReturnType<typeof scratchDir>;
let store: Store;
beforeEach(async () => {
  tmp = scratchDir();
  store = await Store.open(tmp.dir, { gracePeriodMs: 0 });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

/** Makes a record look `ageMs` old (last use = file mtime). */
function age(key: string, ageMs: number): void {
  const t = new Date(Date.now() - ageMs);
  utimesSync(store.layout.record(key), t, t);
}

async function cachedStep(key: string, bytes: number, ageMs: number) {
  const blob = await store.putBlob(`${key}:`.padEnd(bytes, "x"));
  const d = await store.prepareSnapshot();
  writeFileSync(path.join(d.path, "f"), key);
  const snap = sha256Digest(`snap-${key}`);
  await store.commitSnapshot(d, snap, { size: bytes });
  await store.record(key, { value: key, refs: { blobs: [blob.digest], snapshots: [snap] } });
  store.index.clearMemory();
  age(key, ageMs);
  return { blob: blob.digest, snap };
}

describe("prune", () => {
  it("keeps everything a tagged image reaches, even with --all, and frees it once untagged", async () => {
    const img = await makeImage(store, ["base", "app"], { uncompressed: true });
    await store.putImage("app:1", { manifest: img.manifest });
    const step = await cachedStep("step", 1000, 0);
    const res = await store.prune({ all: true });
    expect(res.records).toEqual(["step"]);
    expect(res.blobs).toEqual([step.blob]);
    expect(res.snapshots).toEqual([step.snap]);
    for (const d of [img.manifest, img.config, ...img.gzip, ...img.diffIDs]) expect(await store.hasBlob(d)).toBe(true);
    for (const c of img.chainIDs) expect(await store.hasSnapshot(c)).toBe(true);
    expect(await store.getLayer(img.diffIDs[0]!)).toBeDefined();

    await store.deleteImage("app:1");
    const res2 = await store.prune();
    expect(res2.blobs.length).toBe(2 + 2 + 2);
    expect(res2.snapshots.length).toBe(2);
    expect(await fsp.readdir(store.layout.blobsDir)).toEqual([]);
    expect(await fsp.readdir(store.layout.snapshotsDir)).toEqual([]);
    expect(await fsp.readdir(store.layout.layersDir)).toEqual([]);
  });

  it("without options removes only garbage: unreferenced items and broken records", async () => {
    const kept = await cachedStep("kept", 100, 0);
    const orphan = await store.putBlob("orphan");
    await store.record("broken", { value: 1, refs: { blobs: [sha256Digest("missing")] } });
    const res = await store.prune();
    expect(res.blobs).toEqual([orphan.digest]);
    expect(res.records).toEqual(["broken"]);
    expect(await store.hasBlob(kept.blob)).toBe(true);
    expect(await store.lookup("kept")).toBeDefined();
  });

  it("removes records unused for longer than `until`", async () => {
    await cachedStep("old", 100, 3 * 86400_000);
    const fresh = await cachedStep("fresh", 100, 3600_000);
    const res = await store.prune({ until: "48h" });
    expect(res.records).toEqual(["old"]);
    expect(await store.hasBlob(fresh.blob)).toBe(true);
  });

  it("keepStorage removes least recently used records first until under budget", async () => {
    await cachedStep("a", 10_000, 4000);
    await cachedStep("b", 10_000, 1000);
    await cachedStep("c", 10_000, 3000);
    await cachedStep("d", 10_000, 2000);
    const before = (await store.du()).total;
    // Budget for roughly two of the four steps.
    const res = await store.prune({ keepStorage: before / 2 + 100 });
    expect(res.records).toEqual(["a", "c"]);
    expect(res.sizeAfter).toBeLessThanOrEqual(before / 2 + 100);
    expect((await store.du()).total).toBe(res.sizeAfter);
    expect(await store.lookup("b")).toBeDefined();
    expect(await store.lookup("d")).toBeDefined();
  });

  it("dry run reports without deleting", async () => {
    const s = await cachedStep("x", 100, 0);
    const res = await store.prune({ all: true, dryRun: true });
    expect(res).toMatchObject({ dryRun: true, records: ["x"], blobs: [s.blob], snapshots: [s.snap] });
    expect(await store.hasBlob(s.blob)).toBe(true);
    expect(await store.lookup("x")).toBeDefined();
  });

  it("never deletes leased or young items", async () => {
    const leased = await store.putBlob("leased");
    const lease = await store.lease({ blobs: [leased.digest] });
    expect(lease.missing).toEqual({ blobs: [], snapshots: [] });
    const res = await store.prune({ all: true });
    expect(res.blobs).toEqual([]);
    expect(await store.hasBlob(leased.digest)).toBe(true);
    await lease.release();
    expect((await store.prune()).blobs).toEqual([leased.digest]);

    const graceful = await Store.open(tmp.dir, { gracePeriodMs: 60_000 });
    const young = await graceful.putBlob("young");
    expect((await graceful.prune({ all: true })).blobs).toEqual([]);
    expect(await graceful.hasBlob(young.digest)).toBe(true);
    await graceful.close();
  });

  it("a leased snapshot keeps its parents", async () => {
    const img = await makeImage(store, ["l0", "l1", "l2"]);
    const lease = await store.lease({ snapshots: [img.chainIDs[2]!] });
    const res = await store.prune({ all: true });
    expect(res.snapshots).toEqual([]);
    await lease.release();
    expect((await store.prune()).snapshots.length).toBe(3);
  });

  it("concurrent adds to one lease all end up protected", async () => {
    const blobs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putBlob(`item-${i}`)));
    const lease = await store.lease();
    await Promise.all(blobs.map((b) => lease.add({ blobs: [b.digest] })));
    const onDisk = parseLeaseFile(await fsp.readFile(lease.file, "utf8"));
    expect(onDisk.blobs.sort()).toEqual(blobs.map((b) => b.digest).sort());
    expect((await store.prune({ all: true })).blobs).toEqual([]);
    await lease.release();
  });

  it("a lease file is read line by line: a torn last line does not hide the lines before it", async () => {
    const kept = await store.putBlob("kept");
    const torn = await store.putBlob("torn");
    // A live owner's lease caught mid-append: one whole line, one cut short.
    const file = path.join(store.layout.leasesDir, `${ownerTag()}.0123456789ab.lease.json`);
    writeFileSync(file, `${JSON.stringify({ pid: process.pid, blobs: [kept.digest] })}\n{"blobs":["${torn.digest}`);
    expect(parseLeaseFile(await fsp.readFile(file, "utf8")).blobs).toEqual([kept.digest]);
    expect((await store.prune({ all: true })).blobs).toEqual([torn.digest]);
    await fsp.rm(file);
  });

  it("reports a lease on an item that is already gone", async () => {
    const lease = await store.lease({ blobs: [sha256Digest("never-stored")] });
    expect(lease.missing.blobs).toEqual([sha256Digest("never-stored")]);
    expect(lease.blobs.size).toBe(0);
    await lease.release();
  });
});

describe("du", () => {
  it("splits sizes into shared (tagged images), exclusive (cache only) and unreferenced", async () => {
    const img = await makeImage(store, ["base"]);
    await store.putImage("base:1", { manifest: img.manifest });
    const step = await cachedStep("s", 5000, 0);
    const orphan = await store.putBlob("o".repeat(777));
    const du = await store.du();
    const imgBlobs = await Promise.all([img.manifest, img.config, ...img.gzip].map((d) => store.size(d)));
    expect(du.blobs.count).toBe(imgBlobs.length + 2);
    expect(du.blobs.shared).toBe(imgBlobs.reduce((a, b) => a + b, 0));
    expect(du.blobs.exclusive).toBe(await store.size(step.blob));
    expect(du.blobs.unreferenced).toBe(orphan.size);
    expect(du.snapshots.count).toBe(2);
    expect(du.snapshots.exclusive).toBe(5000);
    expect(du.index.count).toBe(1);
    expect(du.images).toBe(1);
    expect(du.total).toBe(du.blobs.size + du.snapshots.size + du.index.size);
    expect(du.reclaimable).toBe(5000 + (await store.size(step.blob)) + orphan.size + du.index.size);
  });
});

describe("crash leftovers", () => {
  it("open removes temp files of dead processes and keeps those of live ones", async () => {
    const dead = `${deadPid()}.12345.abcdef.blob`;
    writeFileSync(path.join(store.layout.tmpDir, `${deadPid()}.flatten-x1`), "a caller's temp file");
    const mine = await store.tempDir("flatten");
    const deadDir = `${deadPid()}.12345.abcdef.snap`;
    writeFileSync(path.join(store.layout.tmpDir, dead), "partial");
    mkdirSync(path.join(store.layout.tmpDir, deadDir, "fs", "usr"), { recursive: true });
    const w = await store.blobWriter(); // a live writer of this process
    w.write("in progress");
    const again = await Store.open(tmp.dir);
    const left = await fsp.readdir(store.layout.tmpDir);
    expect(left).toHaveLength(2);
    expect(left).toContain(path.basename(mine));
    for (const n of left) expect(n).toMatch(new RegExp(`^${process.pid}\\.`));
    await w.abort();
    await again.close();
  });

  it("ignores lease files of dead processes", async () => {
    const blob = await store.putBlob("was-leased");
    writeFileSync(
      path.join(store.layout.leasesDir, `${deadPid()}.1.aa.lease.json`),
      JSON.stringify({ pid: 1, start: "1", created: "", blobs: [blob.digest], snapshots: [] }),
    );
    expect((await store.prune()).blobs).toEqual([blob.digest]);
    expect(await fsp.readdir(store.layout.leasesDir)).toEqual([]);
  });
});

describe("parseDuration", () => {
  it("understands the units users type", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration(5)).toBe(5);
    expect(() => parseDuration("soon")).toThrow(/invalid duration/);
  });
});
