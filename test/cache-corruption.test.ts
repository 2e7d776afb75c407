// A blob whose bytes change on disk is never served: reading it verified fails, the
// bad file is quarantined, and a cache lookup that needs it becomes a miss, so the
// builder rebuilds (or re-fetches) instead of exporting a wrong layer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BlobCorruptedError, Store } from "@tbuild/cache";

let root: string;
beforeEach(() => {
  root = mkdtempSync("/dev/shm/tbuild-cache-corrupt-");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function drain(s: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const c of s) n += (c as Buffer).length;
  return n;
}

it("a flipped byte is detected on use and turns the cache hit into a miss", async () => {
  const store = await Store.open(root, { gracePeriodMs: 0 });
  const layer = Buffer.alloc(2 << 20);
  for (let i = 0; i < layer.length; i++) layer[i] = (i * 31) & 0xff;
  const blob = await store.putBlob(layer);
  await store.record("RUN make", { value: { diffID: blob.digest }, refs: { blobs: [blob.digest] } });

  // Bit rot: one byte in the middle.
  const p = store.blobPath(blob.digest);
  const bytes = readFileSync(p);
  bytes[1_000_000] ^= 0x01;
  writeFileSync(p, bytes);

  // Another process (fresh store object) gets the record, but the bytes do not verify.
  const reader = await Store.open(root, { gracePeriodMs: 0 });
  const hit = await reader.acquire("RUN make");
  expect(hit).toBeDefined();
  const err = await drain(await reader.open(blob.digest)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BlobCorruptedError);
  expect((err as Error).message).toMatch(/corrupted on disk.*removed from the store/);
  await hit!.lease.release();

  // The blob is gone from the store, so the record no longer hits: the builder rebuilds.
  expect(await reader.hasBlob(blob.digest)).toBe(false);
  expect(await reader.acquire("RUN make")).toBeUndefined();
  expect(await store.verifyBlob(blob.digest)).toBe(false);

  // Rebuilding restores it; the cache works again.
  await reader.putBlob(layer, { digest: blob.digest });
  const again = await reader.acquire("RUN make");
  expect(again).toBeDefined();
  expect(await drain(await reader.open(blob.digest))).toBe(layer.length);
  await again!.lease.release();
  // gc empties the quarantine.
  await reader.prune();
  expect((await import("node:fs")).readdirSync(reader.layout.quarantineDir)).toEqual([]);
  await reader.close();
  await store.close();
});
