// Two (or more) tbuild processes on one store: writing the same and different blobs,
// snapshots and records at once, and a gc running while builds lease and reuse items.
// Real child processes, real files, real flock locks.
import { promises as fsp, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { lockFile, Store } from "@tbuild/cache";
import { buildCachePackage, runWorker, startWorker } from "./fixtures-cache/run.js";
import { mkdtempSync, rmSync } from "node:fs";

let root: string;
beforeAll(() => buildCachePackage());
beforeEach(() => {
  root = mkdtempSync("/dev/shm/tbuild-cache-e2e-");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("concurrent processes on one store", () => {
  it("two writers of the same and different content never corrupt the store or each other", async () => {
    const n = 25;
    const outs = await Promise.all([runWorker(["hammer", root, "A", String(n)]), runWorker(["hammer", root, "B", String(n)])]);
    const [a, b] = outs.map((o) => JSON.parse(o) as { blobs: string[]; snapshots: string[]; records: string[] });
    const store = await Store.open(root);
    const blobs = await fsp.readdir(store.layout.blobsDir);
    // n shared + n own per worker.
    expect(blobs.length).toBe(3 * n);
    for (const d of [...a!.blobs, ...b!.blobs]) expect(await store.verifyBlob(d as never)).toBe(true);
    for (const id of [...a!.snapshots, ...b!.snapshots]) {
      const info = await store.getSnapshot(id as never);
      expect(info?.chainID).toBe(id);
      const name = readFileSync(path.join(store.snapshotPath(id as never), "etc/name"), "utf8");
      expect(id).toBe(`sha256:${(await import("node:crypto")).createHash("sha256").update(name).digest("hex")}`);
    }
    expect((await store.listSnapshots()).length).toBe(3 * n);
    for (const key of [...a!.records, ...b!.records]) {
      const got = await store.acquire(key);
      expect(got, key).toBeDefined();
      await got!.lease.release();
    }
    expect((await store.listImages()).map((i) => i.name)).toEqual(["img-0:latest", "img-1:latest", "img-2:latest"]);
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
    expect(await fsp.readdir(store.layout.leasesDir)).toEqual([]);
    await store.close();
  });

  it("a gc running all the time never takes what a build in another process has leased", async () => {
    const [gc, ...builders] = await Promise.all([
      runWorker(["gc", root, "2500"]),
      runWorker(["builder", root, "150"]),
      runWorker(["builder", root, "150"]),
    ]);
    const gcStats = JSON.parse(gc!) as { runs: number; removed: number };
    expect(gcStats.runs).toBeGreaterThan(3);
    for (const out of builders) {
      const res = JSON.parse(out) as { violations: number; hits: number };
      expect(res.violations).toBe(0);
    }
    const store = await Store.open(root);
    for (const name of await fsp.readdir(store.layout.blobsDir)) expect(await store.verifyBlob(`sha256:${name}`)).toBe(true);
    await store.close();
  });

  it("a lease held by another process protects a blob from prune until that process dies", async () => {
    const store = await Store.open(root, { gracePeriodMs: 0 });
    const blob = await store.putBlob("precious");
    const holder = startWorker(["lease", root, blob.digest]);
    const line = await new Promise<string>((resolve, reject) => {
      holder.stdout!.setEncoding("utf8").once("data", resolve);
      holder.once("exit", (c) => reject(new Error(`lease worker exited ${c}`)));
    });
    expect(line.trim()).toBe("leased 0");
    expect((await store.prune({ all: true })).blobs).toEqual([]);
    expect(await store.hasBlob(blob.digest)).toBe(true);
    holder.kill("SIGKILL");
    await new Promise((r) => holder.once("close", r));
    expect((await store.prune({ all: true })).blobs).toEqual([blob.digest]);
    expect(await fsp.readdir(store.layout.leasesDir)).toEqual([]);
    await store.close();
  });

  it("the gc lock excludes other processes and is released when its holder is SIGKILLed", async () => {
    const file = path.join(root, "test.lock");
    const holder = startWorker(["lock", file]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.setEncoding("utf8").once("data", () => resolve());
      holder.once("exit", (c) => reject(new Error(`lock worker exited ${c}`)));
    });
    let acquired = false;
    const waiting = lockFile(file, "exclusive").then((l) => {
      acquired = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(acquired).toBe(false);
    holder.kill("SIGKILL");
    const lock = await waiting;
    expect(acquired).toBe(true);
    await lock.release();
  });
});
