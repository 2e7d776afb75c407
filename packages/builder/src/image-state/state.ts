// The state of an image while a stage is being built: its config (with history and
// diff_ids), its layers, and the cache key of its filesystem. Steps take a state and
// return a new one; nothing is mutated in place, so a stage's result can be shared by
// every stage that builds on it.
import type { Descriptor, Digest, ImageConfig, Platform } from "@tbuild/oci";
import { chainsOf } from "./layers.js";

export interface LayerRef {
  /** sha256 of the uncompressed layer tar; also the snapshot's id in the store. */
  diffID: Digest;
  /** Size of the uncompressed tar in bytes. */
  size: number;
  /** For base-image layers: the blob they arrived as (kept, never re-created). */
  blob?: Descriptor;
}

export interface ImageState {
  config: ImageConfig;
  /** Bottom to top, parallel to config.rootfs.diff_ids. */
  layers: LayerRef[];
  /** Cache key of the filesystem: changes only when a layer is added. */
  fsKey: string;
  /** True once CMD was set in this stage (ENTRYPOINT then keeps it, as BuildKit does). */
  cmdSet: boolean;
  /** Time stamp that history entries of metadata-only steps take (the last layer's). */
  created: string;
  /** The platform the stage's RUN steps run on (see stage-defaults.ts); unset: the target. */
  platform?: Platform;
}

export function emptyState(platform: Platform, created: string): ImageState {
  return {
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      rootfs: { type: "layers", diff_ids: [] },
      history: [],
    },
    layers: [],
    fsKey: "scratch",
    cmdSet: false,
    created,
  };
}

/** A deep copy whose config can be changed without touching the original. */
export function cloneState(s: ImageState): ImageState {
  return { ...s, config: structuredClone(s.config), layers: [...s.layers] };
}

export function withHistory(s: ImageState, createdBy: string, emptyLayer: boolean, created = s.created): ImageState {
  const n = cloneState(s);
  n.config.history = [
    ...(n.config.history ?? []),
    { created, created_by: createdBy, comment: "buildkit.dockerfile.v0", ...(emptyLayer ? { empty_layer: true } : {}) },
  ];
  return n;
}

/** Adds a layer and its history entry; the new filesystem key is `fsKey`. */
export function withLayer(s: ImageState, layer: LayerRef, fsKey: string, createdBy: string, created: string): ImageState {
  const n = withHistory(s, createdBy, false, created);
  n.layers.push(layer);
  n.config.rootfs.diff_ids = [...n.config.rootfs.diff_ids, layer.diffID];
  n.fsKey = fsKey;
  n.created = created;
  return n;
}

/** Snapshot ids (chain IDs) of the layers, top-most first: the overlay lower stack. */
export function lowerStack(s: ImageState): Digest[] {
  return chainsOf(s.layers.map((l) => l.diffID)).reverse();
}
