// Choosing a snapshotter: overlayfs when the store's filesystem can hold an overlay upper
// dir, else the walk-and-compare copy snapshotter. TBUILD_SNAPSHOTTER overrides.
import { mkdirSync } from "node:fs";
import { runtimeRoot } from "../sandbox/runtime-dir.js";
import { CopySnapshotter } from "./copy-snapshotter.js";
import { OverlaySnapshotter } from "./overlay-snapshotter.js";
import { overlayUpperProblem } from "./probe-overlay.js";
import type { Snapshotter } from "./types.js";

export type SnapshotterKind = "auto" | "overlay" | "copy";

export interface SelectSnapshotterOptions {
  /**
   * A directory on the store's filesystem (where scratch dirs live): "auto" probes
   * overlayfs there. Default: $TBUILD_ROOT, else the runtime dir.
   */
  storeDir?: string;
}

/**
 * The snapshotter for RUN steps. "auto" (the default) picks overlay if an overlay upper
 * works on the store's filesystem (tmpfs and ext4 do), else copy. The environment variable
 * TBUILD_SNAPSHOTTER=overlay|copy|auto overrides the argument. Asking for overlay where it
 * cannot work rejects with the reason.
 */
export async function selectSnapshotter(kind: SnapshotterKind = "auto", opts: SelectSnapshotterOptions = {}): Promise<Snapshotter> {
  const env = process.env.TBUILD_SNAPSHOTTER;
  const want: SnapshotterKind = env === "overlay" || env === "copy" || env === "auto" ? env : kind;
  if (want === "copy") return new CopySnapshotter();
  const dir = opts.storeDir ?? process.env.TBUILD_ROOT ?? runtimeRoot();
  mkdirSync(dir, { recursive: true });
  const problem = await overlayUpperProblem(dir);
  if (problem === undefined) return new OverlaySnapshotter();
  if (want === "overlay") throw new Error(`the overlay snapshotter cannot work on the filesystem of ${dir}: ${problem}`);
  return new CopySnapshotter();
}
