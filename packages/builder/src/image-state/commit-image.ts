// The final image of a build in the local store: its config and manifest become blobs.
// Layers tbuild built are described uncompressed (their digest is the diffID) — nothing
// needs compressing until an export or a push asks for it. Base-image layers keep the
// descriptors of the blobs they came in.
import type { Descriptor, Digest, ImageConfig, Manifest } from "@tbuild/oci";
import { MediaType, sha256 } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import type { ImageState } from "./state.js";

export interface CommittedImage {
  config: ImageConfig;
  configDigest: Digest;
  manifest: Manifest;
  manifestDigest: Digest;
  /** Size of the manifest's bytes (an index's descriptor of it needs it). */
  manifestSize: number;
}

/** The config as written: history times filled in, image time = the newest history entry. */
export function finalConfig(state: ImageState, sourceDateEpoch?: number): ImageConfig {
  const config = structuredClone(state.config);
  config.created = state.created;
  if (sourceDateEpoch !== undefined) {
    // SOURCE_DATE_EPOCH: no time stamp in the config is later than it (BuildKit clamps too).
    const epoch = new Date(sourceDateEpoch * 1000).toISOString();
    const clamp = (t: string | undefined) => (t === undefined || t > epoch ? epoch : t);
    config.created = clamp(config.created);
    for (const h of config.history ?? []) h.created = clamp(h.created);
  }
  if (config.config && config.config.OnBuild === undefined) config.config.OnBuild = null;
  return config;
}

export function layerDescriptors(state: ImageState): Descriptor[] {
  return state.layers.map((l) => l.blob ?? { mediaType: MediaType.ociLayer, digest: l.diffID, size: l.size });
}

export async function commitImage(
  store: Store,
  state: ImageState,
  sourceDateEpoch: number | undefined,
  protect: (refs: { blobs: Digest[] }) => Promise<unknown>,
): Promise<CommittedImage> {
  const config = finalConfig(state, sourceDateEpoch);
  const configBytes = Buffer.from(JSON.stringify(config));
  await protect({ blobs: [sha256(configBytes)] });
  const cfg = await store.putBlob(configBytes);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
    layers: layerDescriptors(state),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  await protect({ blobs: [sha256(manifestBytes)] });
  const m = await store.putBlob(manifestBytes);
  return { config, configDigest: cfg.digest, manifest, manifestDigest: m.digest, manifestSize: m.size };
}
