// --cache-from: reads each source's cache metadata (a cache index and its config, or an
// image's inline metadata) and nothing else. Layer blobs stay where they are until a step
// that must run needs one as a parent, or an output needs its bytes (see session.ts).
// A source that cannot be read is a warning, as in BuildKit: the build goes on without it.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { REF_NAME, parseReference, type Descriptor, type Digest, type Index, type Platform, type RegistryClient } from "@tbuild/oci";
import type { CacheExportSpec, CacheImportSpec } from "../api-types.js";
import { CACHE_CONFIG_MEDIA_TYPE, INLINE_CACHE_KEY, readCacheConfig, type CacheConfig, type CachedLayer } from "./format.js";
import { layoutRemote, readLayoutBlob, registryRemote, type BlobRemote } from "./blob-remote.js";

export type HitSource = "import" | "inline";

export interface ImportedLayer extends CachedLayer {
  remote: BlobRemote;
  source: HitSource;
}

/** The records of every readable --cache-from source, first source first. */
export class ImportedCache {
  private readonly records = new Map<string, ImportedLayer>();
  /** Names of the sources read, for messages. */
  readonly sources: string[] = [];

  add(remote: BlobRemote, source: HitSource, layers: Map<string, CachedLayer>): void {
    this.sources.push(remote.name);
    for (const [key, l] of layers) if (!this.records.has(key)) this.records.set(key, { ...l, remote, source });
  }

  lookup(key: string): ImportedLayer | undefined {
    return this.records.get(key);
  }

  get size(): number {
    return this.records.size;
  }
}

export interface ImportContext {
  client: () => RegistryClient;
  platform: Platform;
  warn: (message: string) => void;
}

/** Reads every source; unreadable ones are reported through `warn` and skipped. */
export async function importCaches(specs: readonly CacheImportSpec[], ctx: ImportContext): Promise<ImportedCache> {
  const cache = new ImportedCache();
  const loaded = await Promise.all(
    specs.map((spec) =>
      loadSource(spec, ctx).catch((e: unknown) => {
        ctx.warn(`importing cache from ${describe(spec)} failed, building without it: ${(e as Error).message}`);
        return undefined;
      }),
    ),
  );
  for (const l of loaded) if (l) cache.add(l.remote, l.source, l.layers);
  return cache;
}

/** Registries that cache specs mark `registry.insecure=true` (plain HTTP). */
export function insecureCacheRegistries(opts: { cacheFrom?: CacheImportSpec[]; cacheTo?: CacheExportSpec[] }): string[] {
  const specs = [...(opts.cacheFrom ?? []), ...(opts.cacheTo ?? [])];
  return specs.flatMap((s) => (s.type === "registry" && s.insecure ? [parseReference(s.ref).registry] : []));
}

export function describe(spec: CacheImportSpec): string {
  return spec.type === "registry" ? spec.ref : `local:${spec.src}`;
}

interface LoadedSource {
  remote: BlobRemote;
  source: HitSource;
  layers: Map<string, CachedLayer>;
}

async function loadSource(spec: CacheImportSpec, ctx: ImportContext): Promise<LoadedSource> {
  return spec.type === "registry" ? loadRegistry(spec.ref, ctx) : loadLocal(spec.src, spec.tag ?? "latest");
}

/** A registry ref: a cache index (type=registry export), or an image with inline cache. */
async function loadRegistry(refText: string, ctx: ImportContext): Promise<LoadedSource> {
  const ref = parseReference(refText);
  const client = ctx.client();
  const remote = registryRemote(client, ref, ref.toString());
  const top = await client.getDocument(ref);
  if (top.document.kind === "index") {
    const cached = fromCacheIndex(top.document.index, (d) => client.fetchSmallBlob(ref, d));
    if (cached) return { remote, source: "import", layers: await cached };
  } else if (top.document.manifest.config.mediaType === CACHE_CONFIG_MEDIA_TYPE) {
    // BuildKit's image-manifest=true form: a manifest whose config is the cache config.
    const m = top.document.manifest;
    const config = parseConfig(await client.fetchSmallBlob(ref, m.config));
    return { remote, source: "import", layers: readCacheConfig(config, byDigest(m.layers)) };
  }
  const image = await client.resolve(ref, ctx.platform);
  const configBytes = await client.fetchSmallBlob(ref, image.manifest.config);
  const imageConfig = JSON.parse(configBytes.toString("utf8")) as { rootfs?: { diff_ids?: Digest[] } } & Record<string, unknown>;
  const inline = imageConfig[INLINE_CACHE_KEY];
  if (typeof inline !== "string") throw new Error(`${ref.toString()} is neither a cache nor an image with inline cache metadata`);
  const config = parseConfig(Buffer.from(inline, "base64"));
  const layers = image.manifest.layers;
  const diffIDs = imageConfig.rootfs?.diff_ids ?? [];
  const diffIDOf = (d: Digest) => diffIDs[layers.findIndex((l) => l.digest === d)];
  return { remote, source: "inline", layers: readCacheConfig(config, byDigest(layers), diffIDOf) };
}

/** An OCI layout written by `--cache-to type=local`: index.json names the cache index by tag. */
async function loadLocal(dir: string, tag: string): Promise<LoadedSource> {
  const root = JSON.parse(await fsp.readFile(path.join(dir, "index.json"), "utf8")) as Index;
  const entries = Array.isArray(root.manifests) ? root.manifests : [];
  const entry = entries.find((m) => m.annotations?.[REF_NAME] === tag) ?? (entries.length === 1 ? entries[0] : undefined);
  if (!entry) throw new Error(`${dir}/index.json has no cache tagged ${tag}`);
  const index = JSON.parse((await readLayoutBlob(dir, entry)).toString("utf8")) as Index;
  const cached = fromCacheIndex(index, (d) => readLayoutBlob(dir, d));
  if (!cached) throw new Error(`${dir}: ${entry.digest} is not a cache index (no ${CACHE_CONFIG_MEDIA_TYPE} entry)`);
  return { remote: layoutRemote(dir), source: "import", layers: await cached };
}

function fromCacheIndex(index: Index, read: (d: Descriptor) => Promise<Buffer>): Promise<Map<string, CachedLayer>> | undefined {
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  const configDesc = manifests.find((m) => m.mediaType === CACHE_CONFIG_MEDIA_TYPE);
  if (!configDesc) return undefined;
  return read(configDesc).then((bytes) => readCacheConfig(parseConfig(bytes), byDigest(manifests)));
}

function byDigest(descs: readonly Descriptor[]): (d: Digest) => Descriptor | undefined {
  const m = new Map(descs.map((d) => [d.digest, d]));
  return (d) => m.get(d);
}

function parseConfig(bytes: Buffer): CacheConfig {
  let o: unknown;
  try {
    o = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new Error("the cache config is not valid JSON");
  }
  if (!o || typeof o !== "object") throw new Error("the cache config is not a JSON object");
  return o as CacheConfig;
}
