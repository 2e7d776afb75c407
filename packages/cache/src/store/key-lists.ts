// Key lists: small named lists of cache keys, newest first ("the records made for this
// step slot", "the records made on this parent filesystem"). They let a cache miss find
// the previous records it can be compared with, without listing the whole index. One
// JSON file per name (sharded like cache records), written with temp + rename; an entry
// whose record is gone is only a dangling hint (lookups miss), and gc drops such entries.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { errno, readJsonFile, writeFileAtomic } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

interface KeyListFile {
  v: 1;
  name: string;
  keys: string[];
}

/** The keys listed under `name`, newest first (empty when none). */
export async function readKeyList(layout: Layout, name: string): Promise<string[]> {
  const f = await readJsonFile<KeyListFile>(layout.keyList(name)).catch(() => undefined);
  if (!f || f.v !== 1 || f.name !== name || !Array.isArray(f.keys)) return [];
  return f.keys.filter((k) => typeof k === "string");
}

/**
 * Puts `key` first in the list `name`, keeping at most `max` keys. Two writers racing on one
 * name may lose one key: the lists are hints, never the truth about what is cached.
 */
export async function addToKeyList(layout: Layout, name: string, key: string, max: number): Promise<void> {
  const keys = [key, ...(await readKeyList(layout, name)).filter((k) => k !== key)].slice(0, max);
  const file = layout.keyList(name);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const body: KeyListFile = { v: 1, name, keys };
  await writeFileAtomic(file, JSON.stringify(body), { tmpDir: layout.tmpDir });
}

/**
 * gc: keeps only the keys that still have a record; removes lists left empty and files that
 * are not lists. Runs under the gc lock, after the records were removed.
 */
export async function pruneKeyLists(layout: Layout, hasRecord: (key: string) => boolean): Promise<void> {
  const shards = await fsp.readdir(layout.keyListsDir).catch((e) => (errno(e) === "ENOENT" ? [] : Promise.reject(e)));
  for (const shard of shards) {
    const dir = path.join(layout.keyListsDir, shard);
    for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, n);
      const f = await readJsonFile<KeyListFile>(file).catch(() => undefined);
      const keys = f?.v === 1 && Array.isArray(f.keys) ? f.keys.filter((k) => typeof k === "string" && hasRecord(k)) : [];
      if (!f || keys.length === 0 || layout.keyList(f.name) !== file) await fsp.rm(file, { force: true });
      else if (keys.length !== f.keys.length) await writeFileAtomic(file, JSON.stringify({ ...f, keys }), { tmpDir: layout.tmpDir });
    }
  }
}
