// Layers a build uses before their bytes are here: hits of an imported cache. Their blobs
// stay in the cache source until something needs them — a step that must run on top of
// them (its rootfs needs their snapshots), or an output that needs their bytes — and are
// fetched once per build, whoever asks first. A fetch that fails is a CacheImportError:
// build() then builds again without the imported cache (steps that ran meanwhile are in
// the local cache by then), as a cache source that breaks must never break the build.
import { compressionOfMediaType, mapLimit, type Descriptor, type Digest } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { chainsOf, ensureSnapshotFromBlob } from "../image-state/layers.js";
import type { ImageState } from "../image-state/state.js";
import type { BlobRemote } from "./blob-remote.js";

/** A cache source failed while the build needed one of its blobs. */
export class CacheImportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CacheImportError";
  }
}

type Protect = (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => Promise<unknown>;

export class LazyLayers {
  /** Each imported blob (by digest): its descriptor and where it can be had. */
  private readonly imported = new Map<Digest, { blob: Descriptor; remote: BlobRemote }>();
  private readonly fetching = new Map<Digest, Promise<void>>();
  /** Blobs already leased by a batch (ensureBlobs). */
  private readonly protectedBlobs = new Set<Digest>();
  private readonly unpacking = new Map<Digest, Promise<void>>();

  constructor(private readonly store: Store, private readonly protect: Protect) {}

  /** Local cache records to write once their layer's snapshot exists, by chain ID. */
  private readonly records = new Map<Digest, { key: string; value: unknown }>();

  /**
   * Records where a hit's blob lives, and the local cache record to write if its snapshot
   * is ever made (a record needs its snapshot: a lookup without one is a miss).
   */
  register(blob: Descriptor, remote: BlobRemote, record?: { chainID: Digest; key: string; value: unknown }): void {
    if (!this.imported.has(blob.digest)) this.imported.set(blob.digest, { blob, remote });
    if (record) this.records.set(record.chainID, record);
  }

  /** True for a blob an imported cache holds already in `compression`: an export can name it as it is. */
  keepsBlob(blob: Descriptor, compression: "gzip" | "zstd"): boolean {
    return this.imported.has(blob.digest) && compressionOfMediaType(blob.mediaType) === compression;
  }

  /**
   * The repository on `registry` a push can mount this imported blob from (cross-repository
   * mount), when the blob is already in `compression`; undefined otherwise.
   */
  mountSource(blob: Descriptor, compression: "gzip" | "zstd", registry: string): string | undefined {
    const r = this.imported.get(blob.digest)?.remote.repository;
    return r && r.registry === registry && this.keepsBlob(blob, compression) ? r.repository : undefined;
  }

  /** True when some layer of `state` came from an imported cache. */
  hasLazy(state: ImageState): boolean {
    return state.layers.some((l) => l.blob !== undefined && this.imported.has(l.blob.digest));
  }

  /** Makes the blob of an imported layer present in the store. */
  async ensureBlob(desc: Descriptor): Promise<void> {
    const remote = this.imported.get(desc.digest)?.remote;
    if (!remote) return;
    let p = this.fetching.get(desc.digest);
    if (!p) {
      p = this.fetch(desc, remote);
      this.fetching.set(desc.digest, p);
    }
    return p;
  }

  private async fetch(desc: Descriptor, remote: BlobRemote): Promise<void> {
    if (!this.protectedBlobs.has(desc.digest)) await this.protect({ blobs: [desc.digest] });
    if (await this.store.hasBlob(desc.digest)) return;
    const w = await this.store.blobWriter();
    try {
      await remote.fetch(desc, w);
      await w.commit({ digest: desc.digest, size: desc.size });
    } catch (e) {
      await w.abort().catch(() => {});
      throw new CacheImportError(`fetching layer ${desc.digest} from ${remote.name} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Fetches an imported blob known only by digest; false when it is not an imported blob. */
  async fetchByDigest(digest: Digest): Promise<boolean> {
    const known = this.imported.get(digest);
    if (!known) return false;
    await this.ensureBlob(known.blob);
    return true;
  }

  /** Every imported blob of `state` in the store (for outputs that need the bytes). */
  async ensureBlobs(state: ImageState): Promise<void> {
    const wanted = state.layers.flatMap((l) => (l.blob && this.imported.has(l.blob.digest) && !this.fetching.has(l.blob.digest) ? [l.blob.digest] : []));
    // One lease line for all of them.
    if (wanted.length > 0) await this.protect({ blobs: wanted });
    for (const d of wanted) this.protectedBlobs.add(d);
    // Ten at a time over kept-alive connections: a cache's layers are often many and small,
    // and each costs a registry round trip (manylayers' 41: 0.26-0.29 s at 5, 0.25-0.26 at 10).
    await mapLimit(state.layers, 10, async (l) => (l.blob ? this.ensureBlob(l.blob) : undefined));
  }

  /**
   * Snapshots for every layer of `state`, fetching and unpacking imported ones that lack
   * theirs. Cheap when nothing is imported: only imported layers are looked at.
   */
  async ensureSnapshots(state: ImageState): Promise<void> {
    if (!this.hasLazy(state)) return;
    const chains = chainsOf(state.layers.map((l) => l.diffID));
    for (const [i, l] of state.layers.entries()) {
      if (!l.blob || !this.imported.has(l.blob.digest)) continue;
      const chainID = chains[i]!;
      let p = this.unpacking.get(chainID);
      if (!p) {
        const blob = l.blob;
        p = (async () => {
          await this.protect({ snapshots: [chainID] });
          if (await this.store.hasSnapshot(chainID)) return;
          await this.ensureBlob(blob);
          await ensureSnapshotFromBlob(this.store, blob.digest, l.diffID, chainID, chains[i - 1], this.protect);
          const rec = this.records.get(chainID);
          if (rec) await this.store.record(rec.key, { value: rec.value, refs: { snapshots: [chainID] } });
        })();
        this.unpacking.set(chainID, p);
      }
      await p;
    }
  }
}
