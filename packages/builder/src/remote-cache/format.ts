// BuildKit's distributable cache format (v0), as tbuild writes and reads it. A cache is an
// image index (or docker manifest list) whose entries are the layer blobs plus one config
// blob of media type `application/vnd.buildkit.cacheconfig.v0`. The config lists the
// layers (each with the index of the layer below it) and the records: a cache key, the
// records it was derived from (`inputs`) and the layer it produced (`layers`). Inline cache
// is the same config, base64-encoded in the image config under `moby.buildkit.cache.v0`,
// its layers naming the image's own layer blobs.
//
// tbuild writes its own cache keys as record digests (a step's key already covers its
// parent filesystem, see DESIGN.md "Cache keys"), so a record needs no input links to be
// found; they are written anyway (each record links the record of the step below it) so
// the graph reads like BuildKit's. BuildKit computes other keys: a cache written by one
// engine gives no hits to the other, and never a false one.
import type { Descriptor, Digest } from "@tbuild/oci";
import { MediaType } from "@tbuild/oci";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.buildkit.cacheconfig.v0";
/** The image-config key that holds inline cache metadata. */
export const INLINE_CACHE_KEY = "moby.buildkit.cache.v0";
/** Annotations BuildKit puts on a cache layer's descriptor. */
export const ANNOTATION_DIFF_ID = "containerd.io/uncompressed";
export const ANNOTATION_CREATED = "buildkit/createdat";
/** tbuild's own: the uncompressed size of the layer (its LayerRef.size). */
export const ANNOTATION_TAR_SIZE = "dev.tbuild.uncompressed-size";

export interface CacheConfigLayer {
  blob: Digest;
  /** Index of the layer below, -1 (BuildKit omits 0-valued ints: absent means 0). */
  parent?: number;
  annotations?: { mediaType?: string; diffID?: Digest; size?: number; createdAt?: string };
}

export interface CacheConfigRecord {
  digest: string;
  layers?: { layer: number; createdAt?: string }[];
  inputs?: { selector?: string; link: number }[][];
}

export interface CacheConfig {
  layers?: CacheConfigLayer[];
  records?: CacheConfigRecord[];
}

/** One step's layer as a cache holds it. */
export interface CachedLayer {
  /** The blob, compressed as exported, with its media type. */
  blob: Descriptor;
  diffID: Digest;
  /** Uncompressed tar size (0 when the cache did not say). */
  size: number;
  created: string;
}

/** What an export writes for one step: its key, its layer, and the step it built on. */
export interface ExportRecord {
  key: string;
  layer: CachedLayer;
  /** Key of the record whose layer is directly below this one (undefined: a base layer). */
  parentKey?: string;
  /** Blob of the layer below this one (the layer chain; base layers included). */
  parentLayers: CachedLayer[];
}

/** Builds the cache config and the layer descriptors an export must make available. */
export function buildCacheConfig(records: readonly ExportRecord[]): { config: CacheConfig; layers: Descriptor[] } {
  const layers: CacheConfigLayer[] = [];
  const descriptors: Descriptor[] = [];
  const described = new Set<Digest>();
  const layerIndex = new Map<string, number>();
  // A layer is identified by its whole chain (blob and everything below), as BuildKit's are.
  const addChain = (chain: readonly CachedLayer[]): number => {
    let parent = -1;
    let id = "";
    for (const l of chain) {
      id += `${l.blob.digest}/`;
      let i = layerIndex.get(id);
      if (i === undefined) {
        i = layers.length;
        layers.push({ blob: l.blob.digest, parent, annotations: { mediaType: l.blob.mediaType, diffID: l.diffID, size: l.blob.size, createdAt: l.created } });
        layerIndex.set(id, i);
        if (!described.has(l.blob.digest)) {
          described.add(l.blob.digest);
          descriptors.push(layerDescriptor(l));
        }
      }
      parent = i;
    }
    return parent;
  };
  const out: CacheConfigRecord[] = [];
  const recordIndex = new Map<string, number>();
  for (const r of records) {
    if (recordIndex.has(r.key)) continue;
    const layer = addChain([...r.parentLayers, r.layer]);
    recordIndex.set(r.key, out.length);
    out.push({ digest: r.key, layers: [{ layer, createdAt: r.layer.created }] });
  }
  for (const r of records) {
    const parent = r.parentKey === undefined ? undefined : recordIndex.get(r.parentKey);
    if (parent !== undefined) out[recordIndex.get(r.key)!]!.inputs = [[{ link: parent }]];
  }
  return { config: { layers, records: out }, layers: descriptors };
}

/** A cache layer's descriptor in the cache index, annotated as BuildKit does. */
export function layerDescriptor(l: CachedLayer): Descriptor {
  return {
    mediaType: l.blob.mediaType,
    digest: l.blob.digest,
    size: l.blob.size,
    annotations: { [ANNOTATION_DIFF_ID]: l.diffID, [ANNOTATION_CREATED]: l.created, ...(l.size ? { [ANNOTATION_TAR_SIZE]: String(l.size) } : {}) },
  };
}

/** The index (or docker manifest list) that names a cache: its layers, then its config. */
export function cacheIndex(layers: readonly Descriptor[], config: Descriptor, ociTypes: boolean): { mediaType: string; schemaVersion: 2; manifests: Descriptor[] } {
  return {
    schemaVersion: 2,
    mediaType: ociTypes ? MediaType.ociIndex : MediaType.dockerManifestList,
    manifests: [...layers, config],
  };
}

/**
 * Reads a cache config into a key → layer map. `blobOf` gives a layer blob's descriptor
 * and annotations (from the cache index, or the image manifest for inline cache); a
 * record whose layer cannot be described is left out rather than guessed.
 */
export function readCacheConfig(config: CacheConfig, blobOf: (digest: Digest) => Descriptor | undefined, diffIDOf?: (digest: Digest) => Digest | undefined): Map<string, CachedLayer> {
  const out = new Map<string, CachedLayer>();
  const layers = Array.isArray(config.layers) ? config.layers : [];
  for (const r of Array.isArray(config.records) ? config.records : []) {
    if (typeof r?.digest !== "string" || !Array.isArray(r.layers) || r.layers.length === 0) continue;
    const res = r.layers[0]!;
    const l = layers[res.layer];
    if (!l || typeof l.blob !== "string") continue;
    const desc = blobOf(l.blob);
    if (!desc) continue;
    const diffID = (desc.annotations?.[ANNOTATION_DIFF_ID] ?? l.annotations?.diffID ?? diffIDOf?.(l.blob)) as Digest | undefined;
    if (!diffID || !/^sha256:[0-9a-f]{64}$/.test(diffID)) continue;
    const created = res.createdAt ?? desc.annotations?.[ANNOTATION_CREATED] ?? l.annotations?.createdAt ?? new Date(0).toISOString();
    const size = Number(desc.annotations?.[ANNOTATION_TAR_SIZE] ?? 0) || 0;
    out.set(r.digest, { blob: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, diffID, size, created });
  }
  return out;
}
