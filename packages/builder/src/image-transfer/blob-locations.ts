// Where a registry already holds the blobs of an image being pushed, as far as the store
// knows. Two sources: the store's registry records (the repositories each blob was pulled
// from or pushed to) and the images named on that registry. `docker push` decides with its
// distribution metadata in the same way, per blob:
//   - maybe held by the target repository already → HEAD, and no upload if it is there;
//   - held by another repository of the registry → a cross-repository mount (one request);
//   - no record at all (a layer built here, never pushed) → uploaded at once, no HEAD.
// A wrong guess costs little: a registry answers a mount it cannot do by opening an ordinary
// upload, a HEAD that misses leads to the upload, and an upload of a blob the registry had
// after all is accepted (only the bytes were spent).
import { parseReference, type Descriptor, type Digest, type ImageReference, type Index, type Manifest } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";

export interface BlobLocations {
  /** Another repository of the target registry holding the blob. */
  mountFrom: (blob: Descriptor) => string | undefined;
  /** Whether the target repository may hold the blob already (worth a HEAD). */
  mayExist: (blob: Descriptor) => boolean;
}

/**
 * What the store knows for a push to `target` ("registry/repository[:tag]") of the documents
 * `pushing` (manifest and index digests): images of the target repository that are other
 * manifests count as evidence of their blobs there; a name given to the pushed image itself does not.
 */
export async function storeBlobLocations(store: Store, target: string, pushing: readonly Digest[]): Promise<BlobLocations> {
  const to = parseReference(target);
  const [records, images] = await Promise.all([store.registryBlobs(to.registry), store.listImages()]);
  // Many names share a manifest (tags of one image): each document is read once, all at once.
  const read = new Map<Digest, Promise<Digest[]>>();
  const blobs = (digest: Digest): Promise<Digest[]> => {
    let p = read.get(digest);
    if (!p) read.set(digest, (p = blobsOf(store, digest)));
    return p;
  };
  const named = images.flatMap((rec) => {
    const ref = referenceOf(rec.name);
    if (!ref || ref.registry !== to.registry) return [];
    if (ref.repository === to.repository && pushing.includes(rec.manifest)) return [];
    return [{ repository: ref.repository, digests: blobs(rec.manifest) }];
  });
  const elsewhere = new Map<Digest, string>();
  const here = new Set<Digest>();
  for (const { repository, digests } of named) {
    for (const d of await digests) {
      if (repository === to.repository) here.add(d);
      else if (!elsewhere.has(d)) elsewhere.set(d, repository);
    }
  }
  const mayExist = (blob: Descriptor): boolean => here.has(blob.digest) || (records.get(blob.digest)?.includes(to.repository) ?? false);
  return {
    // Where the target may hold the blob itself, a HEAD asks first (as Docker does).
    mountFrom: (blob) => (mayExist(blob) ? undefined : (records.get(blob.digest)?.[0] ?? elsewhere.get(blob.digest))),
    mayExist,
  };
}

/**
 * Records that the repository of `ref` holds `digests` (after a pull, a push or a cache
 * export). A hint only: a failure to write it is not the transfer's failure.
 */
export async function rememberBlobs(store: Store, ref: ImageReference | string, digests: Iterable<Digest>): Promise<void> {
  const r = typeof ref === "string" ? parseReference(ref) : ref;
  await store.recordRegistryBlobs(r.registry, r.repository, digests).catch(() => undefined);
}

/** The config and layer digests of manifests. */
export function manifestBlobs(manifests: readonly Manifest[]): Digest[] {
  return manifests.flatMap((m) => [m.config.digest, ...m.layers.map((l) => l.digest)]);
}

function referenceOf(name: string): ImageReference | undefined {
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

/** The config and layer digests of a stored manifest, or of every manifest of an index. */
async function blobsOf(store: Store, digest: Digest): Promise<Digest[]> {
  const doc = await readDocument(store, digest);
  if (!doc) return [];
  if (Array.isArray((doc as Index).manifests)) {
    const children = await Promise.all((doc as Index).manifests.map((m) => blobsOf(store, m.digest)));
    return children.flat();
  }
  const m = doc as Manifest;
  return m.config && Array.isArray(m.layers) ? [m.config.digest, ...m.layers.map((l) => l.digest)] : [];
}

async function readDocument(store: Store, digest: Digest): Promise<unknown> {
  try {
    return JSON.parse((await store.readBlob(digest)).toString("utf8"));
  } catch {
    return undefined; // a child manifest of another platform that was never pulled
  }
}
