// A BlobSource over the store for exports and pushes: real blobs come from the store
// (verified while streaming); the uncompressed tar of a layer tbuild built, which the
// store does not keep, is re-created from its snapshot on demand.
import { Readable } from "node:stream";
import { OciError, createDecompressor, compressionOfMediaType, mapLimit, writeLayer, type BlobSource, type Compression, type Descriptor, type Digest } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { INLINE_LAYER_BYTES, layerSources, openUncompressed, snapshotSource, type LayerSourceInfo } from "./layer-blobs.js";
import type { ImageState } from "../image-state/state.js";
import { chainsOf } from "../image-state/layers.js";

export class StoreBlobSource implements BlobSource {
  private readonly virtual = new Map<Digest, LayerSourceInfo>();
  private readonly memory = new Map<Digest, Buffer>();

  /**
   * @param fetchMissing makes a blob the store lacks present (an imported cache layer whose
   *   cross-repository mount the registry refused), or rejects.
   */
  constructor(private readonly store: Store, private readonly fetchMissing?: (digest: Digest) => Promise<boolean>) {}

  /** Makes the uncompressed tar of these layers available by diffID. */
  addLayers(layers: LayerSourceInfo[]): void {
    for (const l of layers) this.virtual.set(l.diffID, l);
  }

  /** Documents that exist only in memory (an export's own manifest). */
  addDocument(digest: Digest, bytes: Buffer): void {
    this.memory.set(digest, bytes);
  }

  async open(digest: Digest): Promise<Readable> {
    const mem = this.memory.get(digest);
    if (mem) return Readable.from([mem]);
    if (await this.store.hasBlob(digest)) return this.store.openBlob(digest);
    const layer = this.virtual.get(digest);
    if (layer) return openUncompressedAny(this.store, layer);
    if (await this.fetchMissing?.(digest)) return this.store.openBlob(digest);
    throw new OciError("NOT_FOUND", `blob ${digest} is not in the store`);
  }

  async size(digest: Digest): Promise<number> {
    const mem = this.memory.get(digest);
    if (mem) return mem.length;
    if (await this.store.hasBlob(digest)) return this.store.size(digest);
    const layer = this.virtual.get(digest);
    if (layer) return layer.size;
    throw new OciError("NOT_FOUND", `blob ${digest} is not in the store`);
  }
}

/** Uncompressed bytes of a layer whose stored blob may be compressed. */
function openUncompressedAny(store: Store, layer: LayerSourceInfo): Readable {
  const c = layer.stored ? compressionOfMediaType(layer.stored.mediaType) : undefined;
  if (layer.stored && c && c !== "none") return store.openBlob(layer.stored.digest).pipe(createDecompressor(c));
  return openUncompressed(store, layer);
}

/**
 * The descriptor of each layer in `compression`, making (and recording) compressed blobs
 * that do not exist yet. "none" gives the uncompressed tars, served by StoreBlobSource.
 */
export async function layerDescriptors(
  store: Store,
  state: ImageState,
  compression: Compression,
  ociTypes = true,
  elsewhere?: (blob: Descriptor) => boolean,
): Promise<{ layers: Descriptor[]; sources: LayerSourceInfo[] }> {
  const sources = await layerSources(store, state, elsewhere);
  // A few layers at a time: each one's tar walk, getfattr process and compression overlap.
  const layers = await mapLimit(sources, 3, (l) => layerBlob(store, l, compression, ociTypes));
  return { layers, sources };
}

const mediaTypes = {
  oci: { none: "application/vnd.oci.image.layer.v1.tar", gzip: "application/vnd.oci.image.layer.v1.tar+gzip", zstd: "application/vnd.oci.image.layer.v1.tar+zstd" },
  docker: { none: "application/vnd.docker.image.rootfs.diff.tar", gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip", zstd: "application/vnd.oci.image.layer.v1.tar+zstd" },
} as const;

async function layerBlob(store: Store, l: LayerSourceInfo, compression: Compression, ociTypes: boolean): Promise<Descriptor> {
  const mediaType = mediaTypes[ociTypes ? "oci" : "docker"][compression];
  if (compression === "none") return { mediaType, digest: l.diffID, size: l.size };
  if (l.stored && compressionOfMediaType(l.stored.mediaType) === compression) return { mediaType, digest: l.stored.digest, size: l.stored.size };
  const rec = await store.getLayer(l.diffID);
  const known = rec?.compressed[compression as "gzip" | "zstd"];
  if (known && (await store.hasBlob(known.digest))) return { mediaType, digest: known.digest, size: known.size };
  const w = await store.blobWriter();
  let digest: Digest;
  if (!l.stored) {
    // One pass: re-create the tar from the snapshot and compress it; the diffID check is free.
    const r = await writeLayer(snapshotSource(store.snapshotPath(l.chainID)), w, { compression, small: l.size <= INLINE_LAYER_BYTES });
    if (r.diffID !== l.diffID) {
      w.destroy();
      throw new Error(`layer ${l.diffID} could not be re-created from its snapshot (got ${r.diffID}); rebuild with --no-cache`);
    }
    digest = r.digest!;
  } else {
    const { compressBlob } = await import("@tbuild/oci");
    digest = (await compressBlob(openUncompressedAny(store, l), compression, w)).digest;
  }
  const info = await w.commit({ digest });
  await store.putLayerVariant(l.diffID, compression as "gzip" | "zstd", info);
  return { mediaType, digest: info.digest, size: info.size };
}

/**
 * A blob source for images already in the store (save, push): their blobs, plus the tars of
 * layers tbuild built (listed by diffID in the manifest), re-created from their snapshots.
 */
export function storedImagesBlobSource(store: Store, images: { manifest: { layers: Descriptor[] }; config: { rootfs: { diff_ids: Digest[] } } }[]): StoreBlobSource {
  const source = new StoreBlobSource(store);
  for (const img of images) {
    const diffIDs = img.config.rootfs.diff_ids;
    const chains = chainsOf(diffIDs);
    source.addLayers(
      img.manifest.layers.flatMap((l, i) => (l.digest === diffIDs[i] ? [{ diffID: l.digest, size: l.size, chainID: chains[i]! }] : [])),
    );
  }
  return source;
}
