import { promises as fsp, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chainIDs, sha256Digest } from "../util/digest.js";
import { scratchDir } from "../test-support/tmp.js";
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

describe("snapshots", () => {
  it("publishes a filled draft atomically under its chain ID", async () => {
    const [c0] = chainIDs([sha256Digest("layer0")]);
    const draft = await store.prepareSnapshot();
    await fsp.mkdir(path.join(draft.path, "etc"));
    writeFileSync(path.join(draft.path, "etc", "hostname"), "box\n");
    expect(await store.hasSnapshot(c0!)).toBe(false);
    const res = await store.commitSnapshot(draft, c0!, { diffID: sha256Digest("layer0") });
    expect(res.created).toBe(true);
    expect(res.path).toBe(store.snapshotPath(c0!));
    expect(readFileSync(path.join(res.path, "etc", "hostname"), "utf8")).toBe("box\n");
    expect(await store.hasSnapshot(c0!)).toBe(true);
    expect((await store.getSnapshot(c0!))?.size).toBeGreaterThan(0);
    expect(await store.listSnapshots()).toEqual([c0]);
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("keeps the first commit when two drafts race for one chain ID", async () => {
    const id = sha256Digest("same");
    const a = await store.prepareSnapshot();
    const b = await store.prepareSnapshot();
    writeFileSync(path.join(a.path, "who"), "a");
    writeFileSync(path.join(b.path, "who"), "b");
    const [ra, rb] = await Promise.all([store.commitSnapshot(a, id), store.commitSnapshot(b, id)]);
    expect([ra.created, rb.created].sort()).toEqual([false, true]);
    const winner = ra.created ? "a" : "b";
    expect(readFileSync(path.join(store.snapshotPath(id), "who"), "utf8")).toBe(winner);
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("replaces a damaged snapshot directory (no metadata) instead of adopting it", async () => {
    const id = sha256Digest("damaged");
    await fsp.mkdir(path.join(store.layout.snapshotDir(id), "fs"), { recursive: true });
    expect(await store.hasSnapshot(id)).toBe(false);
    const d = await store.prepareSnapshot();
    writeFileSync(path.join(d.path, "ok"), "1");
    const res = await store.commitSnapshot(d, id);
    expect(res.created).toBe(true);
    expect(readFileSync(path.join(res.path, "ok"), "utf8")).toBe("1");
    expect(await store.hasSnapshot(id)).toBe(true);
  });

  it("aborting a draft removes it", async () => {
    const d = await store.prepareSnapshot();
    writeFileSync(path.join(d.path, "x"), "x");
    await store.abortSnapshot(d);
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });
});

describe("cache index", () => {
  it("records and looks up step results", async () => {
    const blob = await store.putBlob("layer");
    const rec = await store.record("step-key-1", { value: { diffID: blob.digest, n: 1 }, refs: { blobs: [blob.digest] } });
    expect(rec.refs).toEqual({ blobs: [blob.digest], snapshots: [] });
    expect((await store.lookup("step-key-1"))?.value).toEqual({ diffID: blob.digest, n: 1 });
    expect(await store.lookup("step-key-2")).toBeUndefined();
    // A second process (fresh store object, cold memory) reads the same record from disk.
    const other = await Store.open(tmp.dir);
    expect(store.index.hotEntries).toBe(1);
    expect(other.index.hotEntries).toBe(0);
    expect((await other.lookup("step-key-1"))?.value).toEqual({ diffID: blob.digest, n: 1 });
    await other.close();
  });

  it("treats a torn or foreign record file as a miss and removes it", async () => {
    await store.record("k", { value: 1 });
    const file = store.layout.record("k");
    writeFileSync(file, '{"v":1,"key":"k","val');
    store.index.clearMemory();
    expect(await store.lookup("k")).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    await expect(fsp.access(file)).rejects.toThrow();
  });

  it("rejects invalid refs and non-JSON values", async () => {
    await expect(store.record("k", { value: 1, refs: { blobs: ["sha256:zz" as never] } })).rejects.toThrow(/invalid digest/);
    await expect(store.record("k", { value: undefined })).rejects.toThrow(/JSON/);
  });

  it("marks last use by touching the record file, in batches", async () => {
    await store.record("k", { value: 1 });
    const file = store.layout.record("k");
    const old = new Date(Date.now() - 3600_000);
    utimesSync(file, old, old);
    store.index.clearMemory();
    const hit = await store.lookup("k");
    expect(hit?.lastUsed.getTime()).toBeGreaterThan(old.getTime());
    await store.index.flush();
    expect((await fsp.stat(file)).mtimeMs).toBeGreaterThan(old.getTime() + 1000);
  });

  it("acquire leases a record's refs and reports a broken record as a miss", async () => {
    const blob = await store.putBlob("l1");
    const snapDraft = await store.prepareSnapshot();
    const snapID = sha256Digest("snap");
    await store.commitSnapshot(snapDraft, snapID);
    await store.record("ok", { value: "v", refs: { blobs: [blob.digest], snapshots: [snapID] } });
    const got = await store.acquire("ok");
    expect(got?.record.value).toBe("v");
    expect([...got!.lease.blobs]).toEqual([blob.digest]);
    await got!.lease.release();
    await store.record("broken", { value: "v", refs: { blobs: [sha256Digest("gone")] } });
    expect(await store.acquire("broken")).toBeUndefined();
    expect(await fsp.readdir(store.layout.leasesDir)).toEqual([]);
  });
});
