// Turns an image of the local store into a build state: its config, and a snapshot for
// every layer (unpacked once, shared by every build that uses the image).
import type { Digest, ImageConfig, Index, Manifest, Platform } from "@tbuild/oci";
import { MediaType, bestForPlatform } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { chainsOf, ensureSnapshotFromBlob } from "./layers.js";
import type { ImageState } from "./state.js";

export interface StoredImage {
  manifestDigest: Digest;
  manifest: Manifest;
  configDigest: Digest;
  config: ImageConfig;
}

function isIndex(doc: { mediaType?: string; manifests?: unknown }): boolean {
  return doc.mediaType === MediaType.ociIndex || doc.mediaType === MediaType.dockerManifestList || Array.isArray(doc.manifests);
}

/**
 * Picks the manifest for `platform` from an index with containerd's matching rules
 * (`bestForPlatform`); an index of one manifest that names no platform is that manifest.
 */
export function pickPlatform(index: Index, platform: Platform): Digest | undefined {
  const only = index.manifests.length === 1 && !index.manifests[0]!.platform ? index.manifests[0] : undefined;
  return (bestForPlatform(index.manifests, platform) ?? only)?.digest;
}

/** Reads a manifest (or the right one from an index) and its config from the store. */
export async function readStoredImage(store: Store, digest: Digest, platform: Platform): Promise<StoredImage> {
  let manifestDigest = digest;
  let doc = JSON.parse((await store.readBlob(digest)).toString("utf8"));
  if (isIndex(doc)) {
    const picked = pickPlatform(doc as Index, platform);
    if (!picked) {
      const have = (doc as Index).manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? "/" + m.platform.variant : ""}` : "unknown")).join(", ");
      throw new Error(`no image for platform ${platform.os}/${platform.architecture} in ${digest} (it has: ${have})`);
    }
    manifestDigest = picked;
    doc = JSON.parse((await store.readBlob(picked)).toString("utf8"));
  }
  const manifest = doc as Manifest;
  const configDigest = manifest.config.digest;
  const config = JSON.parse((await store.readBlob(configDigest)).toString("utf8")) as ImageConfig;
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new Error(`image ${manifestDigest} is inconsistent: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`);
  }
  return { manifestDigest, manifest, configDigest, config };
}

/** Ensures every layer of a stored image has its snapshot; returns the build state. */
export async function stateOfStoredImage(
  store: Store,
  img: StoredImage,
  protect: (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => Promise<unknown>,
): Promise<ImageState> {
  await protect({ blobs: [img.manifestDigest, img.configDigest] });
  const diffIDs = img.config.rootfs.diff_ids;
  const chains = chainsOf(diffIDs);
  for (let i = 0; i < diffIDs.length; i++) {
    await ensureSnapshotFromBlob(store, img.manifest.layers[i]!.digest, diffIDs[i]!, chains[i]!, chains[i - 1], protect);
  }
  const sizes = await Promise.all(diffIDs.map(async (d) => (await store.getLayer(d))?.size ?? 0));
  return stateOfImage(img, sizes);
}

/** The build state of an image whose layers may not be unpacked (yet): config and layer list. */
export function stateOfImage(img: StoredImage, sizes: readonly number[]): ImageState {
  const diffIDs = img.config.rootfs.diff_ids;
  const chains = chainsOf(diffIDs);
  const config = structuredClone(img.config);
  config.history ??= [];
  return {
    config,
    layers: diffIDs.map((diffID, i) => ({ diffID, size: sizes[i] ?? 0, blob: img.manifest.layers[i]! })),
    fsKey: chains[chains.length - 1] ?? "scratch",
    cmdSet: false,
    created: img.config.created ?? new Date(0).toISOString(),
  };
}
