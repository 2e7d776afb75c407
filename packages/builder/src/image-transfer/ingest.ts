// Puts images read from a layout, an archive or a registry into the store: every blob
// verified and stored, then (optionally) a name recorded. Layers are unpacked into
// snapshots later, when a build first uses them.
import type { Digest, LoadedImage, Platform, ResolvedManifest, BlobSource } from "@tbuild/oci";
import { normalizePlatform, platformMatches } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";

/** The manifest of `img` for `platform` (an index entry may hold several). */
export function manifestFor(img: LoadedImage, platform: Platform | undefined, where: string): ResolvedManifest {
  if (img.manifests.length === 1 || !platform) {
    const m = img.manifests[0];
    if (!m) throw new Error(`${where} holds no image manifest`);
    return m;
  }
  const want = normalizePlatform(platform);
  const m = img.manifests.find((r) => {
    const p = r.descriptor.platform ?? { os: r.config.os, architecture: r.config.architecture, ...(r.config.variant ? { variant: r.config.variant } : {}) };
    return platformMatches(want, p);
  });
  if (!m) throw new Error(`${where} has no image for ${want.os}/${want.architecture}`);
  return m;
}

/** Stores a manifest, its config and its layer blobs; returns the manifest digest. */
export async function ingestManifest(store: Store, m: ResolvedManifest, blobs: BlobSource): Promise<Digest> {
  for (const layer of m.manifest.layers) {
    if (await store.hasBlob(layer.digest)) continue;
    await store.putBlob(await blobs.open(layer.digest), { digest: layer.digest, size: layer.size });
  }
  await store.putBlob(m.configBytes, { digest: m.manifest.config.digest });
  const stored = await store.putBlob(m.manifestBytes, { digest: m.descriptor.digest });
  return stored.digest;
}

/** Stores an index entry's blobs (every platform of an index) and returns the digest its name should point at. */
export async function ingestImage(store: Store, img: LoadedImage, blobs: BlobSource): Promise<Digest> {
  for (const m of img.manifests) await ingestManifest(store, m, blobs);
  if (img.indexBytes) return (await store.putBlob(img.indexBytes, { digest: img.descriptor.digest })).digest;
  return img.manifests[0]!.descriptor.digest;
}
