// --cache-to: writes the layer steps of this build as a BuildKit-format cache (see
// format.ts) to a registry or an OCI layout directory, or (inline) into the image config.
// `min` writes the steps whose layers are in the final image, `max` every step of every
// stage built. Layers are compressed once and kept (layer records), so a second export
// costs no compression; an imported layer bound for the registry it came from is mounted.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  MediaType, OCI_LAYOUT_FILE, REF_NAME, mapLimit, parseReference, serializeDocument,
  type Descriptor, type Digest, type RegistryClient,
} from "@tbuild/oci";
import type { CacheExportSpec } from "../api-types.js";
import { chainsOf } from "../image-state/layers.js";
import { cloneState, type ImageState, type LayerRef } from "../image-state/state.js";
import type { BuildSession } from "../solve/session.js";
import { layerDescriptors, StoreBlobSource } from "../export/store-blobs.js";
import { writeFileAtomically } from "../export/archives.js";
import { rememberBlobs, storeBlobLocations } from "../image-transfer/blob-locations.js";
import { buildCacheConfig, cacheIndex, CACHE_CONFIG_MEDIA_TYPE, INLINE_CACHE_KEY, type CachedLayer, type ExportRecord } from "./format.js";

type Compression = "gzip" | "zstd";

/** What an export covers: each target's session and final image (one for most builds). */
export interface ExportPart {
  session: BuildSession;
  final: ImageState;
}

/**
 * The records an export of `mode` writes, one per distinct key: `min` the steps whose layer
 * is in a final image, `max` every layer step the targets resolved.
 */
function selectRecords(parts: readonly ExportPart[], mode: "min" | "max") {
  const inImage = new Set(parts.flatMap((p) => chainsOf(p.final.layers.map((l) => l.diffID))));
  const seen = new Set<string>();
  return parts.flatMap((p) => p.session.layerRecords).filter((r) => {
    if (seen.has(r.key) || r.layers.length === 0) return false;
    if (mode === "min" && !inImage.has(r.chainID)) return false;
    seen.add(r.key);
    return true;
  });
}

/**
 * Describes every layer of the records as a blob in `compression`, by chain ID. A layer
 * `mountable` says stays where it is (an imported blob the target registry can mount);
 * other imported layers are fetched first, then compressed blobs made or reused.
 */
async function describeLayers(
  session: BuildSession,
  records: readonly { layers: LayerRef[]; chainID: Digest }[],
  compression: Compression,
  ociTypes: boolean,
  mountable: (blob: Descriptor) => boolean,
): Promise<Map<Digest, Descriptor>> {
  const out = new Map<Digest, Descriptor>();
  // Longest chains first: a chain's prefixes are then described with it, in one pass.
  const byLength = [...records].sort((a, b) => b.layers.length - a.layers.length);
  for (const r of byLength) {
    if (out.has(r.chainID)) continue;
    const chains = chainsOf(r.layers.map((l) => l.diffID));
    const state = { layers: r.layers } as ImageState;
    for (const l of r.layers) if (l.blob && !mountable(l.blob)) await session.lazy.ensureBlob(l.blob);
    const { layers } = await layerDescriptors(session.store, state, compression, ociTypes, mountable);
    chains.forEach((c, i) => out.set(c, layers[i]!));
  }
  return out;
}

/** The cache config and layer descriptors for `records`. */
async function cacheContent(parts: readonly ExportPart[], opts: { mode: "min" | "max"; compression: Compression; ociTypes: boolean; mountable: (b: Descriptor) => boolean }) {
  const session = parts[0]!.session; // the targets of a build share the store and the lazy layers
  const records = selectRecords(parts, opts.mode);
  const blobs = await describeLayers(session, records, opts.compression, opts.ociTypes, opts.mountable);
  const keyOfChain = new Map<Digest, string>();
  const createdOfChain = new Map<Digest, string>();
  for (const r of records) {
    if (!keyOfChain.has(r.chainID)) keyOfChain.set(r.chainID, r.key);
    createdOfChain.set(r.chainID, r.created);
  }
  const exportRecords: ExportRecord[] = records.map((r) => {
    const chains = chainsOf(r.layers.map((l) => l.diffID));
    const cached = r.layers.map((l, i): CachedLayer => ({ blob: blobs.get(chains[i]!)!, diffID: l.diffID, size: l.size, created: createdOfChain.get(chains[i]!) ?? r.created }));
    const parentKey = chains.length > 1 ? keyOfChain.get(chains[chains.length - 2]!) : undefined;
    return { key: r.key, layer: cached.at(-1)!, parentLayers: cached.slice(0, -1), ...(parentKey ? { parentKey } : {}) };
  });
  return buildCacheConfig(exportRecords);
}

/** Writes every cache export but inline (which commitImage's config carries). */
export async function exportCaches(parts: readonly ExportPart[], client: () => RegistryClient): Promise<void> {
  const session = parts[0]!.session;
  for (const spec of session.opts.cacheTo ?? []) {
    if (spec.type === "inline") continue;
    try {
      if (spec.type === "registry") await exportToRegistry(parts, spec, client());
      else await exportToLayout(parts, spec);
    } catch (e) {
      exportFailed(session, spec, `exporting cache to ${spec.type === "registry" ? spec.ref : `local:${spec.dest}`}`, e);
    }
  }
}

/** A failed export fails the build, or with ignore-error=true is a warning (as in BuildKit). */
function exportFailed(session: BuildSession, spec: CacheExportSpec, what: string, e: unknown): void {
  const message = `${what} failed: ${(e as Error).message}`;
  if (!spec.ignoreError) throw new Error(message, { cause: e });
  session.emit({ type: "warning", message: `${message} (ignore-error=true: the build goes on)`, time: Date.now() });
}

async function exportToRegistry(parts: readonly ExportPart[], spec: Extract<CacheExportSpec, { type: "registry" }>, client: RegistryClient): Promise<void> {
  const session = parts[0]!.session;
  const ref = parseReference(spec.ref);
  const compression = spec.compression ?? "gzip";
  const ociTypes = spec.ociMediatypes ?? true;
  const mountFrom = (blob: Descriptor) => session.lazy.mountSource(blob, compression, ref.registry);
  const { config, layers } = await cacheContent(parts, { mode: spec.mode ?? "min", compression, ociTypes, mountable: (b) => mountFrom(b) !== undefined });
  const configDoc = serializeDocument(config);
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: configDoc.digest, size: configDoc.size };
  const source = new StoreBlobSource(session.store, (d) => session.lazy.fetchByDigest(d));
  source.addDocument(configDoc.digest, Buffer.from(configDoc.bytes));
  // The store's records say where else the registry holds a blob, and learn what this export put there.
  const known = await storeBlobLocations(session.store, spec.ref, []);
  const blobs = [...layers, configDesc];
  await mapLimit(blobs, 5, (d) => client.pushBlob(ref, d, source, { mountFrom: mountFrom(d) ?? known.mountFrom(d), mayExist: known.mayExist(d) }));
  await rememberBlobs(session.store, ref, blobs.map((d) => d.digest));
  const index = cacheIndex(layers, configDesc, ociTypes);
  await client.putManifest(ref, ref.tag ?? "latest", serializeDocument(index).bytes, index.mediaType);
}

/** An OCI layout, as buildx's local cache: blobs, and index.json naming the cache by tag. */
async function exportToLayout(parts: readonly ExportPart[], spec: Extract<CacheExportSpec, { type: "local" }>): Promise<void> {
  const session = parts[0]!.session;
  const compression = spec.compression ?? "gzip";
  const ociTypes = spec.ociMediatypes ?? true;
  const { config, layers } = await cacheContent(parts, { mode: spec.mode ?? "min", compression, ociTypes, mountable: () => false });
  const dir = spec.dest;
  await fsp.mkdir(path.join(dir, "blobs", "sha256"), { recursive: true });
  const source = new StoreBlobSource(session.store);
  await mapLimit(layers, 3, async (d) => writeBlobFile(dir, d.digest, await source.open(d.digest)));
  const configDoc = serializeDocument(config);
  await writeBlobFile(dir, configDoc.digest, configDoc.bytes);
  const index = cacheIndex(layers, { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: configDoc.digest, size: configDoc.size }, ociTypes);
  const indexDoc = serializeDocument(index);
  await writeBlobFile(dir, indexDoc.digest, indexDoc.bytes);
  await tagLayoutEntry(dir, { mediaType: index.mediaType, digest: indexDoc.digest, size: indexDoc.size }, spec.tag ?? "latest");
}

/**
 * Names `desc` (a cache index whose blobs are in the layout) by `tag` in the layout's
 * index.json, replacing an entry of that tag, and writes the oci-layout file: buildx's local
 * cache (also what the remote backend does with the daemon's cache.manifest, cache-options.ts).
 */
export async function tagLayoutEntry(dir: string, desc: Descriptor, tag: string): Promise<void> {
  const entry: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations: { [REF_NAME]: tag } };
  const existing = await readJson<{ manifests?: Descriptor[] }>(path.join(dir, "index.json"));
  const others = (existing?.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
  await writeAll(path.join(dir, "oci-layout"), OCI_LAYOUT_FILE);
  await writeAll(path.join(dir, "index.json"), Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...others, entry] })));
}

/**
 * The inline cache metadata of the final image (BuildKit's `moby.buildkit.cache.v0`, base64
 * of a cache config): min mode, layers named by the gzip blobs a push of the image sends.
 */
export async function withInlineCache(session: BuildSession, final: ImageState): Promise<ImageState> {
  try {
    const { config } = await cacheContent([{ session, final }], { mode: "min", compression: "gzip", ociTypes: true, mountable: (b) => session.lazy.keepsBlob(b, "gzip") });
    const state = cloneState(final);
    (state.config as unknown as Record<string, unknown>)[INLINE_CACHE_KEY] = Buffer.from(JSON.stringify(config)).toString("base64");
    return state;
  } catch (e) {
    exportFailed(session, session.opts.cacheTo!.find((c) => c.type === "inline")!, "exporting inline cache", e);
    return final;
  }
}

/** A blob of the layout, written once (temp name, then renamed: see writeFileAtomically). */
async function writeBlobFile(dir: string, digest: Digest, content: Uint8Array | Readable): Promise<void> {
  const file = path.join(dir, "blobs", "sha256", digest.slice("sha256:".length));
  if (await fsp.stat(file).then(() => true, () => false)) return;
  await writeFileAtomically(file, (w) => pipeline(content instanceof Readable ? content : Readable.from([content]), w));
}

function writeAll(file: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomically(file, (w) => pipeline(Readable.from([bytes]), w));
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
