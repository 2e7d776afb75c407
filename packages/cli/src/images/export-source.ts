// The blobs of stored images for `tbuild save`: base-image layers, configs and
// manifests are store blobs; layers tbuild built are kept only as snapshots (the store
// describes them by diffID and keeps no tar), so their tar is written again from the
// snapshot, deterministically, and checked against the diffID while it streams.
// TODO(builder): use an exported builder helper for stored-image exports if one appears,
// so this and the builder's export path stay one piece of code.

import { PassThrough, type Readable } from "node:stream";
import { chainIDs, type Store } from "@tbuild/cache";
import { type BlobSource, type Digest, OciError, writeLayer } from "@tbuild/oci";
import type { StoredImage } from "./stored-image.js";

/** A BlobSource over the store that can also regenerate built layers of `images`. */
export function exportSource(store: Store, images: StoredImage[]): BlobSource {
  const regenerable = new Map<Digest, { chainID: Digest; size: number }>();
  for (const img of images) {
    const diffIDs = img.config.rootfs.diff_ids;
    const chains = chainIDs(diffIDs);
    img.manifest.layers.forEach((l, i) => {
      if (l.digest === diffIDs[i]) regenerable.set(l.digest, { chainID: chains[i]!, size: l.size });
    });
  }
  return {
    async open(digest: Digest): Promise<Readable> {
      if (await store.hasBlob(digest)) return store.open(digest);
      const layer = regenerable.get(digest);
      if (layer && (await store.hasSnapshot(layer.chainID))) return regenerate(store, digest, layer.chainID);
      throw new OciError("NOT_FOUND", `blob ${digest} is neither in the store nor re-creatable from a snapshot`);
    },
    async size(digest: Digest): Promise<number> {
      if (await store.hasBlob(digest)) return store.size(digest);
      const layer = regenerable.get(digest);
      if (layer && (await store.hasSnapshot(layer.chainID))) return layer.size;
      throw new OciError("NOT_FOUND", `blob ${digest} is neither in the store nor re-creatable from a snapshot`);
    },
  };
}

function regenerate(store: Store, diffID: Digest, chainID: Digest): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  writeLayer({ kind: "overlay-upper", dir: store.snapshotPath(chainID) }, out)
    .then((r) => {
      if (r.diffID !== diffID) {
        out.destroy(new Error(`layer ${diffID} could not be re-created from its snapshot (got ${r.diffID}); rebuild the image with --no-cache`));
      }
    })
    .catch((err: unknown) => out.destroy(err as Error));
  return out;
}
