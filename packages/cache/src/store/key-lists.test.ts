// Key lists: newest first, capped, written atomically, and trimmed by gc to keys that still
// have a record (a list left empty is removed).
import { readdirSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
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

const files = () => readdirSync(store.layout.keyListsDir).flatMap((s) => readdirSync(path.join(store.layout.keyListsDir, s)));

it("keeps the newest keys first, each once, at most max", async () => {
  expect(await store.keyList("slot:a")).toEqual([]);
  for (const k of ["k1", "k2", "k3", "k2"]) await store.addToKeyList("slot:a", k, 3);
  expect(await store.keyList("slot:a")).toEqual(["k2", "k3", "k1"]);
  await store.addToKeyList("slot:a", "k4", 3);
  expect(await store.keyList("slot:a")).toEqual(["k4", "k2", "k3"]);
  expect(await store.keyList("slot:b")).toEqual([]);
});

it("reads a torn or foreign file as an empty list", async () => {
  const file = store.layout.keyList("slot:x");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '{"v":1,"name":"slot:x","keys":["a"');
  expect(await store.keyList("slot:x")).toEqual([]);
  writeFileSync(file, JSON.stringify({ v: 1, name: "slot:other", keys: ["a"] }));
  expect(await store.keyList("slot:x")).toEqual([]);
});

it("gc keeps only keys with a record and removes lists left empty", async () => {
  await store.record("kept", { value: 1 });
  await store.record("gone", { value: 2 });
  await store.addToKeyList("slot:a", "gone");
  await store.addToKeyList("slot:a", "kept");
  await store.addToKeyList("slot:b", "gone");
  await store.deleteRecord("gone");
  await store.prune({});
  expect(await store.keyList("slot:a")).toEqual(["kept"]);
  expect(files()).toHaveLength(1);
  await store.prune({ all: true });
  expect(files()).toEqual([]);
});
