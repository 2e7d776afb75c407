// Where the bytes of an image layer come from when an export needs them: the blob it
// arrived as (base images), or — for layers tbuild built, which keep no tar — the
// deterministic tar writer run over the layer's snapshot, checked against its diffID.
import { PassThrough, type Readable } from "node:stream";
import { DigestTap, writeLayer, type Compression, type Descriptor, type Digest, type LayerSource } from "@tbuild/oci";
import { readXattrSidecar } from "../fs/xattr-sidecar.js";
import type { Store } from "@tbuild/cache";
import { chainsOf } from "../image-state/layers.js";
import type { ImageState } from "../image-state/state.js";

export interface LayerSourceInfo {
  diffID: Digest;
  size: number;
  chainID: Digest;
  /** The blob this layer is stored as, if any (base images, SOURCE_DATE_EPOCH builds). */
  stored?: Descriptor;
}

/**
 * Where each layer's bytes are. `elsewhere` says a blob the store lacks is still to be
 * counted as stored: an imported cache layer a push mounts from the registry holding it.
 */
export async function layerSources(store: Store, state: ImageState, elsewhere?: (blob: Descriptor) => boolean): Promise<LayerSourceInfo[]> {
  const chains = chainsOf(state.layers.map((l) => l.diffID));
  return Promise.all(
    state.layers.map(async (l, i) => {
      const candidates: Descriptor[] = l.blob ? [l.blob] : [];
      candidates.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.diffID, size: l.size });
      let stored: Descriptor | undefined;
      for (const c of candidates) if (await store.hasBlob(c.digest)) { stored = c; break; }
      if (!stored && l.blob && elsewhere?.(l.blob)) stored = l.blob;
      return { diffID: l.diffID, size: l.size, chainID: chains[i]!, ...(stored ? { stored } : {}) };
    }),
  );
}

/**
 * Layers whose tar is at most this big are written on the main thread: starting the tar
 * worker costs more than tarring a few MB, and most RUN layers are far smaller.
 */
export const INLINE_LAYER_BYTES = 4 << 20;

/** A snapshot tree as a tar source, with its recorded attributes when it has them. */
export function snapshotSource(dir: string): LayerSource {
  const xattrs = readXattrSidecar(dir);
  return { kind: "overlay-upper", dir, ...(xattrs ? { xattrs } : {}) };
}

/** Re-creates a built layer's tar from its snapshot; the stream errors if the bytes differ. */
export function regenerateLayer(store: Store, layer: LayerSourceInfo, compression: Compression = "none"): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const dir = store.snapshotPath(layer.chainID);
  writeLayer(snapshotSource(dir), out, { compression, small: layer.size <= INLINE_LAYER_BYTES })
    .then((r) => {
      if (r.diffID !== layer.diffID) {
        out.destroy(new Error(`layer ${layer.diffID} could not be re-created from its snapshot (got ${r.diffID}); the snapshot was changed — rebuild with --no-cache`));
      }
    })
    .catch((e) => out.destroy(e));
  return out;
}

/** The uncompressed tar of a layer, from whichever source it has. */
export function openUncompressed(store: Store, layer: LayerSourceInfo): Readable {
  if (layer.stored) return store.openBlob(layer.stored.digest);
  return regenerateLayer(store, layer);
}

export { DigestTap };
