// The Store: one object over a store root that the builder and exporters use for
// blobs, layer records, snapshots, images, the cache index, leases, du and prune.
// See layout.ts for the on-disk layout and leases.ts for the gc handshake.
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import type { BlobSource, Digest } from "@tbuild/oci";
import { BlobNotFoundError, StoreError } from "../errors.js";
import { sha256Digest } from "../util/digest.js";
import { readJsonFile, removeTree, tempName, writeFileAtomic } from "../util/fs-util.js";
import * as reader from "./blob-reader.js";
import { BlobWriter, TempBlob, type BlobInfo, type ExpectedBlob } from "./blob-writer.js";
import { CacheIndex, type CacheRecord, type CacheRefs } from "./cache-index.js";
import * as images from "./images.js";
import { addToKeyList, readKeyList } from "./key-lists.js";
import { readRegistryBlobs, recordRegistryBlobs } from "./registry-blobs.js";
import { takeInventory } from "./inventory.js";
import * as layers from "./layers.js";
import { defaultStoreRoot, Layout, LAYOUT_VERSION } from "./layout.js";
import { Lease, type LeaseRefs } from "./leases.js";
import { cleanLeftovers } from "./recovery.js";
import { computeUsage, type DiskUsage, type PruneOptions, type PruneResult } from "./prune.js";
import { runPrune } from "./gc.js";
import * as snapshots from "./snapshots.js";

export interface StoreOptions {
  /**
   * Unreferenced items younger than this are never collected: they may belong to a
   * build that has written them but not yet recorded or leased them. Default 5 minutes.
   */
  gracePeriodMs?: number;
  /** Cache records kept in memory. Default 10,000. */
  lruSize?: number;
  /**
   * Make writes survive a power loss: fsync each blob and its directory, sync the
   * filesystem before a snapshot commit. Default: true, except on a RAM filesystem.
   */
  durable?: boolean;
}

/** Data accepted by `putBlob`. */
export type BlobData = string | Uint8Array | Readable | AsyncIterable<Uint8Array | string>;

export type { BlobInfo, ExpectedBlob };

/** The store; implements @tbuild/oci's `BlobSource` so exporters can stream from it. */
export class Store implements BlobSource {
  readonly root: string;
  readonly layout: Layout;
  readonly gracePeriodMs: number;
  readonly #index: CacheIndex;
  #durable: boolean;
  readonly #leases = new Set<Lease>();
  #closed = false;

  private constructor(root: string, opts: StoreOptions) {
    this.root = root;
    this.layout = new Layout(root);
    this.gracePeriodMs = opts.gracePeriodMs ?? 5 * 60_000;
    this.#index = new CacheIndex(this.layout, opts.lruSize ?? 10_000);
    this.#durable = opts.durable ?? true;
  }

  /**
   * Opens (creating if needed) the store at `root` (default: `defaultStoreRoot()`),
   * checks its layout version and removes leftovers of processes that died mid-write.
   */
  static async open(root: string = defaultStoreRoot(), opts: StoreOptions = {}): Promise<Store> {
    const abs = path.resolve(root);
    const store = new Store(abs, opts);
    const L = store.layout;
    try {
      await fsp.mkdir(abs, { recursive: true, mode: 0o711 });
      // At once: eleven sequential mkdirs were a third of opening an existing store.
      await Promise.all(L.dirs.map((d) => fsp.mkdir(d, { recursive: true, mode: 0o700 })));
    } catch (e) {
      throw new StoreError(`cannot create the tbuild store at ${abs}: ${(e as Error).message}`, { cause: e });
    }
    const v = await readJsonFile<{ version?: number }>(L.versionFile);
    if (v === undefined) {
      await writeFileAtomic(L.versionFile, JSON.stringify({ version: LAYOUT_VERSION }), { tmpDir: L.tmpDir, durable: true });
    } else if (v.version !== LAYOUT_VERSION) {
      throw new StoreError(
        `the store at ${abs} has layout version ${String(v.version)}, this tbuild understands version ${LAYOUT_VERSION}; ` +
          `use a different --root or remove the directory`,
      );
    }
    // On a RAM filesystem there is nothing to make durable: skip the fsyncs of every blob
    // and the syncfs of every snapshot commit (threadpool round trips that cost time, not safety).
    if (opts.durable === undefined && (await isRamFilesystem(abs))) store.#durable = false;
    await cleanLeftovers(L);
    return store;
  }

  // ── blobs ────────────────────────────────────────────────────────────────

  /** Path of a blob file (it exists only if `hasBlob`). Read it through `openBlob` to verify. */
  blobPath(digest: Digest): string {
    return this.layout.blob(digest);
  }

  /**
   * Stores bytes as a blob: written to tmp/, fsynced, verified against `expected`,
   * renamed into place. If `expected.digest` is given and that blob already exists
   * (with the expected size), nothing is read: a Readable `data` is destroyed.
   */
  async putBlob(data: BlobData, expected: ExpectedBlob = {}): Promise<BlobInfo> {
    // Bytes in memory (a config, a manifest) are hashed first: a rebuild commits the same
    // documents, and finding them stored saves a temp file, an fsync and a rename each.
    if (expected.digest === undefined && (typeof data === "string" || data instanceof Uint8Array)) {
      expected = { ...expected, digest: sha256Digest(data) };
    }
    if (expected.digest !== undefined) {
      const existing = await fsp.stat(this.layout.blob(expected.digest)).catch(() => undefined);
      if (existing && (expected.size === undefined || expected.size === existing.size)) {
        // Refresh its age so a concurrent gc's grace period covers our use of it.
        const now = new Date();
        await fsp.utimes(this.layout.blob(expected.digest), now, now).catch(() => undefined);
        if (isDestroyable(data)) data.destroy();
        return { digest: expected.digest, size: existing.size };
      }
    }
    const tmp = await TempBlob.create(this.layout, this.#durable);
    try {
      if (typeof data === "string" || data instanceof Uint8Array) {
        await tmp.append(typeof data === "string" ? Buffer.from(data) : data);
      } else {
        for await (const chunk of data) await tmp.append(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      }
      return await tmp.commit(expected);
    } catch (e) {
      await tmp.abort();
      throw e;
    }
  }

  /** A Writable that becomes a blob on `await writer.commit(expected?)`. */
  async blobWriter(): Promise<BlobWriter> {
    return BlobWriter.create(this.layout, this.#durable);
  }

  /** True when the blob is present (blobs appear complete, by rename). */
  async hasBlob(digest: Digest): Promise<boolean> {
    return reader.hasBlob(this.layout, digest);
  }

  /**
   * Opens a blob. With `verify` (default), bytes are hashed as they stream and the
   * stream fails with `BlobCorruptedError` at the end on mismatch, after the bad blob
   * has been quarantined; a missing blob fails with `BlobNotFoundError`.
   */
  openBlob(digest: Digest, opts?: reader.OpenBlobOptions): Readable {
    return reader.openBlob(this.layout, digest, opts);
  }

  /**
   * `BlobSource`: a verified stream of the blob; rejects with `BlobNotFoundError`
   * (code "NOT_FOUND") when it is absent.
   */
  async open(digest: Digest): Promise<Readable> {
    if (!(await reader.hasBlob(this.layout, digest))) throw new BlobNotFoundError(digest);
    return reader.openBlob(this.layout, digest, { verify: true });
  }

  /** `BlobSource`: blob size in bytes (`BlobNotFoundError` if absent). */
  async size(digest: Digest): Promise<number> {
    return reader.blobSize(this.layout, digest);
  }

  /** Reads a small blob (manifest, config) fully, verified. */
  async readBlob(digest: Digest): Promise<Buffer> {
    return reader.readBlob(this.layout, digest);
  }

  /** Re-hashes a blob: true when intact; false when missing or corrupt (then quarantined). */
  async verifyBlob(digest: Digest): Promise<boolean> {
    return reader.verifyBlob(this.layout, digest);
  }

  // ── layer records ────────────────────────────────────────────────────────

  /** Records a layer's diffID and uncompressed size. */
  async putLayer(diffID: Digest, size: number): Promise<void> {
    return layers.putLayer(this.layout, diffID, size);
  }

  /** Records a compressed variant of a layer (the blob itself goes through `putBlob`). */
  async putLayerVariant(diffID: Digest, compression: layers.LayerCompression, blob: BlobInfo): Promise<void> {
    return layers.putLayerVariant(this.layout, diffID, compression, blob);
  }

  /** The layer record of a diffID, or undefined. Check `hasBlob` before using a variant. */
  async getLayer(diffID: Digest): Promise<layers.LayerRecord | undefined> {
    return layers.getLayer(this.layout, diffID);
  }

  // ── snapshots ────────────────────────────────────────────────────────────

  /** Starts a snapshot: fill `draft.path`, then `commitSnapshot(draft, chainID)`. */
  async prepareSnapshot(): Promise<snapshots.SnapshotDraft> {
    return snapshots.prepareSnapshot(this.layout);
  }

  /**
   * Publishes a filled draft as the snapshot `chainID` (one rename). If another
   * process committed the same chain ID first, ours is discarded and theirs returned.
   */
  async commitSnapshot(draft: snapshots.SnapshotDraft, chainID: Digest, opts: snapshots.CommitSnapshotOptions = {}): Promise<snapshots.CommittedSnapshot> {
    return snapshots.commitSnapshot(this.layout, draft, chainID, { ...opts, durable: this.#durable });
  }

  /** Discards a draft. */
  async abortSnapshot(draft: snapshots.SnapshotDraft): Promise<void> {
    await removeTree(draft.dir);
  }

  /** Directory of a snapshot's tree (an overlayfs lower dir). Exists only if `hasSnapshot`. */
  snapshotPath(chainID: Digest): string {
    return this.layout.snapshotFs(chainID);
  }

  /** True when a committed snapshot with valid metadata exists for `chainID`. */
  async hasSnapshot(chainID: Digest): Promise<boolean> {
    return (await snapshots.getSnapshot(this.layout, chainID)) !== undefined;
  }

  /** Metadata of a committed snapshot (size, parent, diffID, commit time), or undefined. */
  async getSnapshot(chainID: Digest): Promise<snapshots.SnapshotInfo | undefined> {
    return snapshots.getSnapshot(this.layout, chainID);
  }

  /** Chain IDs of all snapshot directories. */
  async listSnapshots(): Promise<Digest[]> {
    return snapshots.listSnapshots(this.layout);
  }

  // ── images ───────────────────────────────────────────────────────────────

  /** Points `name` (e.g. `myapp:latest`) at a manifest or index blob. */
  async putImage(name: string, image: { manifest: Digest; mediaType?: string; created?: string }): Promise<images.ImageRecord> {
    return images.putImage(this.layout, name, image);
  }
  /** The image record of a name, or undefined. */
  async getImage(name: string): Promise<images.ImageRecord | undefined> {
    return images.getImage(this.layout, name);
  }
  /** All image records, sorted by name. */
  async listImages(): Promise<images.ImageRecord[]> {
    return images.listImages(this.layout);
  }
  /** Removes a name (true if it existed); its blobs become collectable unless referenced elsewhere. */
  async deleteImage(name: string): Promise<boolean> {
    return images.deleteImage(this.layout, name);
  }

  // ── cache index ──────────────────────────────────────────────────────────

  /** The record of a step cache key, or undefined (memory, then one small file read). */
  async lookup<T = unknown>(key: string): Promise<CacheRecord<T> | undefined> {
    return this.#index.lookup<T>(key);
  }

  /** Stores the result of a step. Write blobs and snapshots first, then the record. */
  async record<T>(key: string, result: { value: T; refs?: Partial<CacheRefs> }): Promise<CacheRecord<T>> {
    return this.#index.record(key, result);
  }

  /** The record of a key without marking it used (for looking at old records). */
  async peekRecord<T = unknown>(key: string): Promise<CacheRecord<T> | undefined> {
    return this.#index.peek<T>(key);
  }

  /** Removes one record. */
  async deleteRecord(key: string): Promise<boolean> {
    return this.#index.delete(key);
  }

  /**
   * Lookup for use: finds the record, leases its refs and checks they all still exist.
   * Returns undefined (a miss) when the record is absent or broken; otherwise the
   * caller owns the lease and must release it.
   */
  async acquire<T = unknown>(key: string): Promise<{ record: CacheRecord<T>; lease: Lease } | undefined> {
    const record = this.#index.lookup<T>(key);
    if (!record) return undefined;
    const lease = await this.lease(record.refs);
    if (lease.missing.blobs.length + lease.missing.snapshots.length > 0) {
      await lease.release();
      this.#index.forget(key);
      return undefined;
    }
    return { record, lease };
  }

  /** The cache keys listed under `name`, newest first (hints: a listed record may be gone). */
  async keyList(name: string): Promise<string[]> {
    return readKeyList(this.layout, name);
  }

  /** Lists `key` first under `name`, keeping the newest `max` (gc drops keys without a record). */
  async addToKeyList(name: string, key: string, max = 8): Promise<void> {
    return addToKeyList(this.layout, name, key, max);
  }

  /** The repositories of `registry` this store's pulls and pushes saw holding each blob. */
  async registryBlobs(registry: string): Promise<Map<Digest, string[]>> {
    return readRegistryBlobs(this.layout, registry);
  }

  /** Records that `repository` of `registry` holds `digests` (a hint for later pushes). */
  async recordRegistryBlobs(registry: string, repository: string, digests: Iterable<Digest>): Promise<void> {
    return recordRegistryBlobs(this.layout, registry, repository, digests);
  }

  /** Cache index internals for benchmarks and tests (memory size, flushing, clearing). */
  get index(): Pick<CacheIndex, "hotEntries" | "clearMemory" | "flush"> {
    return this.#index;
  }

  // ── leases, usage, pruning ───────────────────────────────────────────────

  /**
   * Takes a lease on items so a concurrent gc/prune (in any process) leaves them alone.
   * `lease.missing` lists requested items that were already gone.
   */
  async lease(refs: LeaseRefs = {}): Promise<Lease> {
    const lease = new Lease(this.layout, {
      exists: (kind, d) => (kind === "blob" ? this.hasBlob(d) : this.hasSnapshot(d)),
      onRelease: (l) => this.#leases.delete(l),
    });
    this.#leases.add(lease);
    try {
      await lease.add(refs);
    } catch (e) {
      await lease.release();
      throw e;
    }
    return lease;
  }

  /**
   * Disk usage by kind, with shared (tagged images) vs exclusive (cache only) sizes, what the
   * grace period holds back, and with `items` every blob and snapshot.
   */
  async du(opts: { items?: boolean } = {}): Promise<DiskUsage> {
    const inv = await takeInventory(this.layout, this.#index);
    return computeUsage(this.layout, inv, this.gracePeriodMs, opts);
  }

  /**
   * Removes cache records chosen by `opts` and every blob and snapshot that nothing
   * (tagged image, remaining record, live lease) references and that is older than the
   * grace period. Runs under the store's exclusive gc lock; see leases.ts.
   */
  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return runPrune(this.layout, this.#index, opts, this.gracePeriodMs);
  }

  /** `prune()` with no options: only garbage. */
  async gc(): Promise<PruneResult> {
    return this.prune({});
  }

  /**
   * A fresh path under the store's tmp/ (same filesystem as everything else, so results
   * can be renamed into place), named so that crash recovery removes it once this
   * process is gone. Nothing is created.
   */
  tempPath(kind = "tmp"): string {
    return path.join(this.layout.tmpDir, tempName(kind.replace(/[^A-Za-z0-9_-]/g, "_")));
  }

  /** Like `tempPath`, but creates the directory. */
  async tempDir(kind = "dir"): Promise<string> {
    const p = this.tempPath(kind);
    await fsp.mkdir(p, { recursive: true, mode: 0o700 });
    return p;
  }

  /** Path of the persistent stat cache for a context directory (inside this store). */
  contextStatCachePath(contextRoot: string): string {
    return this.layout.contextStatCache(contextRoot);
  }

  /** Flushes pending "last used" updates and releases this store's leases. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#index.flush();
    for (const l of [...this.#leases]) await l.release();
  }
}

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

async function isRamFilesystem(dir: string): Promise<boolean> {
  try {
    const st = await fsp.statfs(dir);
    return st.type === TMPFS_MAGIC || st.type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

function isDestroyable(x: unknown): x is { destroy(): void } {
  return typeof (x as { destroy?: unknown })?.destroy === "function";
}
