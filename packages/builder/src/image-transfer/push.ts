// Pushes an image (manifest + a blob source that serves its blobs, for a built image one
// that re-creates built layers) or an index to a registry under `name`. With a store, the
// store's records say where the registry holds blobs already (blob-locations.ts) and learn
// what the push put there.
import {
  parseReference, serializeDocument, sha256, type BlobSource, type Descriptor, type Digest, type Index, type Manifest, type PushContent, type PushResult, type RegistryClient,
} from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { manifestBlobs, rememberBlobs, storeBlobLocations } from "./blob-locations.js";
import { registryClient } from "./pull.js";

/** What a push sends: the manifest, its exact bytes, and where its blobs come from. */
export interface PushableImage {
  manifest: Manifest;
  manifestBytes: Buffer;
  source: BlobSource;
}

export interface PushOptions {
  insecure?: boolean;
  insecureRegistries?: string[];
  signal?: AbortSignal;
  /** Reads where the registry holds blobs before the push, records what it holds after. */
  store?: Store;
  /** A repository of the same registry holding a blob, known to the caller; tried before the store's. */
  mountFrom?: (blob: Descriptor) => string | undefined;
  /** A client to use (and leave open); by default one is made and closed. */
  client?: RegistryClient;
}

export async function pushImage(img: PushableImage, name: string, opts: PushOptions): Promise<Digest> {
  return (await pushContent({ manifest: img.manifest, manifestBytes: img.manifestBytes }, img.source, name, opts)).descriptor.digest;
}

/** Pushes an image index and every manifest it lists (their blobs come from `source`). */
export async function pushIndex(index: Index, indexBytes: Buffer, source: BlobSource, name: string, opts: PushOptions): Promise<Digest> {
  return (await pushContent({ index, indexBytes }, source, name, opts)).descriptor.digest;
}

/** Pushes a manifest or an index (its child manifests read from `source`) under `name`. */
export async function pushContent(content: PushContent, source: BlobSource, name: string, opts: PushOptions): Promise<PushResult> {
  const ref = parseReference(name);
  const client = opts.client ?? registryClient([...(opts.insecureRegistries ?? []), ...(opts.insecure ? [ref.registry] : [])]);
  try {
    const known = opts.store ? await storeBlobLocations(opts.store, name, documentDigests(content)) : undefined;
    const r = await client.push(ref, content, source, {
      mountFrom: (b) => opts.mountFrom?.(b) ?? known?.mountFrom(b),
      ...(known ? { mayExist: known.mayExist } : {}),
    });
    if (opts.store) await rememberBlobs(opts.store, ref, manifestBlobs(r.manifests));
    return r;
  } finally {
    if (!opts.client) await client.close();
  }
}

/** The digests of the documents pushed: the manifest, or the index and its children. */
function documentDigests(content: PushContent): Digest[] {
  if ("index" in content) {
    const bytes = content.indexBytes ?? serializeDocument(content.index).bytes;
    return [sha256(bytes), ...content.index.manifests.map((m) => m.digest)];
  }
  return [sha256(content.manifestBytes ?? serializeDocument(content.manifest).bytes)];
}
