// The cache index: step cache key → result. One small JSON file per key (sharded by
// the first byte of sha256(key)), so a lookup is one file read and writers of
// different keys never touch the same file. Hot entries stay in an in-memory LRU.
// "Last used" is the file's mtime, bumped in batches after hits (no fsync, no
// rewrite), and read back by du/prune.
import { readFileSync, promises as fsp, utimesSync } from "node:fs";
import path from "node:path";
import { LRUCache } from "lru-cache";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { isDigest } from "../util/digest.js";
import { errno, writeFileAtomic } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

/** Store items a cache record needs; gc keeps them while the record exists. */
export interface CacheRefs {
  blobs: Digest[];
  /** Chain IDs of snapshots (their parents are kept too). */
  snapshots: Digest[];
}

/** A cache record as stored and returned by `lookup`. */
export interface CacheRecord<T = unknown> {
  key: string;
  /** The builder's result (opaque JSON to the store). */
  value: T;
  refs: CacheRefs;
  created: Date;
  lastUsed: Date;
}

interface RecordFile {
  v: 1;
  key: string;
  value: unknown;
  refs: CacheRefs;
  created: string;
}

/** How often batched "last used" updates are written (ms). */
const TOUCH_INTERVAL_MS = 2000;

function validateRefs(refs: Partial<CacheRefs> | undefined): CacheRefs {
  const blobs = [...new Set(refs?.blobs ?? [])];
  const snapshots = [...new Set(refs?.snapshots ?? [])];
  for (const d of [...blobs, ...snapshots]) {
    if (!isDigest(d)) throw new CacheError("ERR_BAD_DIGEST", `cache record refers to an invalid digest: ${JSON.stringify(d)}`);
  }
  return { blobs, snapshots };
}

function parseRecord(text: string, key: string | undefined): CacheRecord | undefined {
  let f: RecordFile;
  try {
    f = JSON.parse(text) as RecordFile;
  } catch {
    return undefined;
  }
  if (!f || f.v !== 1 || typeof f.key !== "string" || !("value" in f) || (key !== undefined && f.key !== key)) return undefined;
  if (!f.refs || !Array.isArray(f.refs.blobs) || !Array.isArray(f.refs.snapshots)) return undefined;
  if (![...f.refs.blobs, ...f.refs.snapshots].every(isDigest)) return undefined;
  const created = new Date(f.created);
  return { key: f.key, value: f.value, refs: f.refs, created, lastUsed: created };
}

/** A record file found by `list()`, with its on-disk size and effective last use. */
export interface ListedRecord {
  record: CacheRecord;
  file: string;
  size: number;
}

export class CacheIndex {
  readonly #lru: LRUCache<string, CacheRecord>;
  /** Keys whose record file mtime should be bumped: key → time of last hit (ms). */
  readonly #touches = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly layout: Layout, lruSize: number) {
    this.#lru = new LRUCache({ max: Math.max(1, lruSize) });
  }

  /** Number of hot entries in memory (for tests and benchmarks). */
  get hotEntries(): number {
    return this.#lru.size;
  }

  /** Forgets hot entries (a later lookup reads the file again). */
  clearMemory(): void {
    this.#lru.clear();
  }

  /**
   * Looks a key up: memory first, then one small file read. A file that is not a valid
   * record for this key (torn by a crash, foreign) counts as a miss and is removed.
   */
  lookup<T = unknown>(key: string): CacheRecord<T> | undefined {
    const now = Date.now();
    const hot = this.#lru.get(key);
    if (hot) {
      hot.lastUsed = new Date(now);
      this.#touch(key, now);
      return hot as CacheRecord<T>;
    }
    const file = this.layout.record(key);
    let text: string;
    try {
      // Synchronous on purpose: a small page-cached read is several times cheaper
      // than the promise API's open/stat/read/close round trips.
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (errno(e) === "ENOENT") return undefined;
      throw e;
    }
    const rec = parseRecord(text, key);
    if (!rec) {
      void fsp.rm(file, { force: true }).catch(() => undefined);
      return undefined;
    }
    rec.lastUsed = new Date(now);
    this.#lru.set(key, rec);
    this.#touch(key, now);
    return rec as CacheRecord<T>;
  }

  /**
   * Reads a record without using it: no "last used" bump and no memory entry, so looking
   * at old records (to explain a miss) does not keep them from an LRU prune.
   */
  peek<T = unknown>(key: string): CacheRecord<T> | undefined {
    const hot = this.#lru.peek(key);
    if (hot) return hot as CacheRecord<T>;
    let text: string;
    try {
      text = readFileSync(this.layout.record(key), "utf8");
    } catch (e) {
      if (errno(e) === "ENOENT") return undefined;
      throw e;
    }
    return parseRecord(text, key) as CacheRecord<T> | undefined;
  }

  /** Writes (or replaces) the record of `key`. Last writer wins; both are valid results. */
  async record<T>(key: string, result: { value: T; refs?: Partial<CacheRefs> }): Promise<CacheRecord<T>> {
    if (typeof key !== "string" || key.length === 0) throw new CacheError("ERR_BAD_KEY", "cache key must be a non-empty string");
    const refs = validateRefs(result.refs);
    const now = new Date();
    const file: RecordFile = { v: 1, key, value: result.value, refs, created: now.toISOString() };
    let text: string | undefined;
    try {
      text = result.value === undefined ? undefined : JSON.stringify(file);
    } catch (e) {
      throw new CacheError("ERR_BAD_VALUE", `cache record value must be JSON-serialisable: ${(e as Error).message}`);
    }
    if (text === undefined) throw new CacheError("ERR_BAD_VALUE", "cache record value must be JSON-serialisable (got undefined)");
    const p = this.layout.record(key);
    await fsp.mkdir(path.dirname(p), { recursive: true });
    // No fsync: a record torn by a power loss fails validation and reads as a miss.
    await writeFileAtomic(p, text, { tmpDir: this.layout.tmpDir });
    const rec: CacheRecord<T> = { key, value: result.value, refs, created: now, lastUsed: now };
    this.#lru.set(key, rec);
    return rec;
  }

  /** Removes the record of `key`; true when it existed. */
  async delete(key: string): Promise<boolean> {
    this.#lru.delete(key);
    this.#touches.delete(key);
    return this.deleteFile(this.layout.record(key));
  }

  /** Removes a record file by path (used by prune; call `forget(key)` too). */
  async deleteFile(file: string): Promise<boolean> {
    try {
      await fsp.unlink(file);
      return true;
    } catch (e) {
      if (errno(e) === "ENOENT") return false;
      throw e;
    }
  }

  /** Forgets a key from memory only (after another component deleted its file). */
  forget(key: string): void {
    this.#lru.delete(key);
    this.#touches.delete(key);
  }

  /** Every valid record on disk; `lastUsed` is the file's mtime (written at record time, bumped on hits). */
  async list(): Promise<{ records: ListedRecord[]; invalid: string[] }> {
    await this.flush();
    const records: ListedRecord[] = [];
    const invalid: string[] = [];
    const shards = await fsp.readdir(this.layout.indexDir);
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const dir = path.join(this.layout.indexDir, shard);
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      await Promise.all(
        names.map(async (n) => {
          if (!/^[0-9a-f]{64}\.json$/.test(n)) return;
          const file = path.join(dir, n);
          const [st, text] = await Promise.all([fsp.stat(file).catch(() => undefined), fsp.readFile(file, "utf8").catch(() => undefined)]);
          if (!st || text === undefined) return;
          const rec = parseRecord(text, undefined);
          if (!rec || this.layout.record(rec.key) !== file) {
            invalid.push(file);
            return;
          }
          rec.lastUsed = new Date(st.mtimeMs);
          records.push({ record: rec, file, size: st.size });
        }),
      );
    }
    return { records, invalid };
  }

  #touch(key: string, now: number): void {
    this.#touches.set(key, now);
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), TOUCH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Writes pending "last used" times (file mtimes). Cheap: one utimes per touched record. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = [...this.#touches];
    this.#touches.clear();
    for (const [key, ms] of pending) {
      const t = new Date(ms);
      try {
        utimesSync(this.layout.record(key), t, t);
      } catch {
        /* pruned meanwhile: nothing to mark */
      }
    }
  }
}

