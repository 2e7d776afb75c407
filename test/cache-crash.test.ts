// SIGKILL at random moments while a process writes blobs, snapshots, records, layer
// records, images, leases and runs prune: the next Store.open must succeed, every
// visible blob must verify, every visible snapshot and record must be whole, and the
// dead process's leftovers must be cleaned up (including its gc lock).
import { promises as fsp, mkdtempSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "@tbuild/cache";
import { buildCachePackage, startWorker } from "./fixtures-cache/run.js";

let root: string;
beforeAll(() => {
  buildCachePackage();
  root = mkdtempSync("/dev/shm/tbuild-cache-crash-");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ROUNDS = 24;

/** Starts a writer, waits until it has opened the store, lets it write for `ms`, kills it. */
async function killAfter(ms: number, seed: number): Promise<string> {
  const child = startWorker(["churn", root, String(seed)]);
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  await new Promise<void>((resolve) => {
    child.stdout!.setEncoding("utf8").once("data", () => resolve());
    child.once("close", () => resolve());
  });
  await new Promise((r) => setTimeout(r, ms));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("close", r));
  return err;
}

describe("crash safety", () => {
  it(`survives ${ROUNDS} SIGKILLs at random points of writing`, async () => {
    let sawLeftovers = 0;
    const verified = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      // Spread the kills over the first ~500 ms of writing.
      const err = await killAfter(Math.floor(Math.random() * 500), round);
      expect(err, "the worker itself must not fail before it is killed").toBe("");
      if ((await fsp.readdir(`${root}/tmp`).catch(() => [])).length > 0) sawLeftovers++;

      const store = await Store.open(root, { gracePeriodMs: 0 });
      expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
      // Blobs only ever appear by rename after a full write, so a blob verified once
      // stays valid; check the new ones each round and all of them at the end.
      for (const name of await fsp.readdir(store.layout.blobsDir)) {
        if (verified.has(name)) continue;
        expect(await store.verifyBlob(`sha256:${name}`), `blob ${name} after round ${round}`).toBe(true);
        verified.add(name);
      }
      for (const id of await store.listSnapshots()) {
        expect(await store.getSnapshot(id), `snapshot ${id} after round ${round}`).toBeDefined();
      }
      if (round % 6 === 5) {
        // Usage accounting reads every record, image and layer record: all must parse.
        expect((await store.du()).total).toBeGreaterThan(0);
        // The gc lock of a killed process is free again; prune works and keeps referenced items.
        await store.prune({ until: "1h" });
      }
      await store.close();
    }
    // Random kills land mid-write only sometimes (fewer on a fast machine, and a rebuild now
    // writes less); one more kill lands there for certain: half a blob and a snapshot draft.
    console.log(`cache crash: ${sawLeftovers} of ${ROUNDS} random kills left temp files`);
    const mid = startWorker(["midwrite", root]);
    await new Promise<void>((resolve) => mid.stdout!.setEncoding("utf8").once("data", () => resolve()));
    mid.kill("SIGKILL");
    await new Promise((r) => mid.once("close", r));
    expect((await fsp.readdir(`${root}/tmp`)).length).toBeGreaterThan(0);
    const reopened = await Store.open(root, { gracePeriodMs: 0 });
    expect(await fsp.readdir(reopened.layout.tmpDir)).toEqual([]);
    await reopened.close();

    const store = await Store.open(root, { gracePeriodMs: 0 });
    const keys: string[] = [];
    for (const shard of await fsp.readdir(store.layout.indexDir)) {
      for (const f of await fsp.readdir(`${store.layout.indexDir}/${shard}`)) keys.push(JSON.parse(await fsp.readFile(`${store.layout.indexDir}/${shard}/${f}`, "utf8")).key);
    }
    expect(keys.length).toBeGreaterThan(ROUNDS);
    for (const name of await fsp.readdir(store.layout.blobsDir)) expect(await store.verifyBlob(`sha256:${name}`)).toBe(true);
    for (const key of keys) {
      const got = await store.acquire(key);
      expect(got, `record ${key} must be usable`).toBeDefined();
      for (const b of got!.record.refs.blobs) expect(await store.verifyBlob(b)).toBe(true);
      await got!.lease.release();
    }
    await store.close();
  }, 180_000);
});
