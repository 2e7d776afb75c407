// Registry blob records: per registry, each blob's repositories newest first, at most five;
// registries kept apart; an unreadable file is no records (they are hints), and a later
// record rewrites it.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Digest } from "@tbuild/oci";
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

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}` as Digest;

it("lists each blob's repositories newest first, each once, at most five, per registry", async () => {
  expect(await store.registryBlobs("r.example:5000")).toEqual(new Map());
  await store.recordRegistryBlobs("r.example:5000", "a/one", [d(1), d(2)]);
  await store.recordRegistryBlobs("r.example:5000", "b/two", [d(2), d(2)]);
  await store.recordRegistryBlobs("other.example", "c/three", [d(1)]);
  const r = await store.registryBlobs("r.example:5000");
  expect(r.get(d(1))).toEqual(["a/one"]);
  expect(r.get(d(2))).toEqual(["b/two", "a/one"]);
  expect((await store.registryBlobs("other.example")).get(d(1))).toEqual(["c/three"]);
  for (const repo of ["p1", "p2", "p3", "p4", "p5", "a/one"]) await store.recordRegistryBlobs("r.example:5000", repo, [d(2)]);
  expect((await store.registryBlobs("r.example:5000")).get(d(2))).toEqual(["a/one", "p5", "p4", "p3", "p2"]);
});

it("reads a damaged records file as no records, and replaces it on the next record", async () => {
  const file = store.layout.registryBlobs("r.example");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "{not json");
  expect(await store.registryBlobs("r.example")).toEqual(new Map());
  await store.recordRegistryBlobs("r.example", "x", [d(7)]);
  expect((await store.registryBlobs("r.example")).get(d(7))).toEqual(["x"]);
});
