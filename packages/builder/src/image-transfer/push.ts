// Pushes an image (manifest + a blob source that serves its blobs, for a built image one
// that re-creates built layers) to a registry under `name`.
import { parseReference, type BlobSource, type Descriptor, type Digest, type Index, type Manifest, type PushContent } from "@tbuild/oci";
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
  /** A repository of the same registry that may hold a blob already (cross-repository mount). */
  mountFrom?: (blob: Descriptor) => string | undefined;
}

export async function pushImage(img: PushableImage, name: string, opts: PushOptions): Promise<Digest> {
  return push({ manifest: img.manifest, manifestBytes: img.manifestBytes }, img.source, name, opts);
}

/** Pushes an image index and every manifest it lists (their blobs come from `source`). */
export async function pushIndex(index: Index, indexBytes: Buffer, source: BlobSource, name: string, opts: PushOptions): Promise<Digest> {
  return push({ index, indexBytes }, source, name, opts);
}

async function push(content: PushContent, source: BlobSource, name: string, opts: PushOptions): Promise<Digest> {
  const ref = parseReference(name);
  const client = registryClient([...(opts.insecureRegistries ?? []), ...(opts.insecure ? [ref.registry] : [])]);
  try {
    const r = await client.push(ref, content, source, opts.mountFrom ? { mountFrom: opts.mountFrom } : {});
    return r.descriptor.digest;
  } finally {
    await client.close();
  }
}
