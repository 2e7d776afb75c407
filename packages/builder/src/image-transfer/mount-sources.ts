// Where a registry already holds a blob, as far as the store knows: the repository of every
// image named on that registry (pulled from it, or pushed to it under that name). A push
// mounts such a blob across repositories instead of uploading it, as `docker push` does
// with the sources it remembers. A wrong guess costs nothing: a registry answers a mount it
// cannot do by opening an ordinary upload, which the push then uses.
import { parseReference, type Descriptor, type Digest, type ImageReference, type Index, type Manifest } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";

export type MountFrom = (blob: Descriptor) => string | undefined;

/** Mount sources for a push to `target` (a "registry/repository" reference): other repositories of its registry. */
export async function storeMountSources(store: Store, target: string): Promise<MountFrom> {
  const to = parseReference(target);
  const from = new Map<Digest, string>();
  for (const rec of await store.listImages()) {
    const ref = referenceOf(rec.name);
    // The image being pushed is usually named on the target already: not a source.
    if (!ref || ref.registry !== to.registry || ref.repository === to.repository) continue;
    for (const d of await blobsOf(store, rec.manifest)) if (!from.has(d)) from.set(d, ref.repository);
  }
  return (blob) => from.get(blob.digest);
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
