// Snapshotters: how a step's writable rootfs is prepared from layer snapshots and how its
// diff (an overlay upper dir) is taken.
export type { PreparedRootfs, Snapshotter } from "./types.js";
export { selectSnapshotter, type SnapshotterKind, type SelectSnapshotterOptions } from "./select.js";
export { OverlaySnapshotter } from "./overlay-snapshotter.js";
export { CopySnapshotter } from "./copy-snapshotter.js";
export { overlayMountOptions, overlayUpperOptions } from "./overlay-options.js";
