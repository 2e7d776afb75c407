// The image index of a multi-platform build in the local store: one descriptor per target's
// manifest, in the order the platforms were asked for, each with the target's platform (as
// BuildKit writes it: normalised, so linux/arm64 carries no v8 variant).
import type { Digest, Index, Platform } from "@tbuild/oci";
import { MediaType, sha256 } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import type { CommittedImage } from "./commit-image.js";
import type { ImageState } from "./state.js";

/** One target's image in a multi-platform build. */
export interface PlatformImage {
  platform: Platform;
  state: ImageState;
  image: CommittedImage;
}

export interface CommittedIndex {
  index: Index;
  digest: Digest;
  size: number;
}

export async function commitIndex(store: Store, images: PlatformImage[], protect: (refs: { blobs: Digest[] }) => Promise<unknown>): Promise<CommittedIndex> {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map(({ platform, image }) => ({ mediaType: MediaType.ociManifest, digest: image.manifestDigest, size: image.manifestSize, platform })),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  await protect({ blobs: [sha256(bytes)] });
  const put = await store.putBlob(bytes);
  return { index, digest: put.digest, size: put.size };
}
