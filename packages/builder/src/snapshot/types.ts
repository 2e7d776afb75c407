// What a snapshotter hands to an executor: the writable root filesystem of one step.

/**
 * The writable rootfs of one step.
 * - `overlay`: the executor mounts an overlayfs of `lowers` (snapshot directories, top-most
 *   first; empty = an empty rootfs) with `upper`/`work` inside its private mount namespace.
 *   After the run, `upper` is the step's diff.
 * - `dir`: a plain directory holding the full rootfs; the executor binds it as the root.
 */
export type PreparedRootfs =
  | { kind: "overlay"; lowers: string[]; upper: string; work: string }
  | { kind: "dir"; path: string };

/** Prepares a step's writable rootfs from its parent snapshots and extracts the step's diff. */
export interface Snapshotter {
  readonly name: "overlay" | "copy";
  /**
   * Prepares a writable rootfs over `parents` (snapshot directories, top-most first).
   * `scratch` is an empty directory of the caller's in the store's filesystem; everything
   * the snapshotter creates lives inside it.
   */
  prepare(parents: string[], scratch: string): Promise<PreparedRootfs>;
  /**
   * After the step: returns a directory in overlay-upper format (whiteouts are char devices
   * 0/0, replaced directories carry trusted.overlay.opaque=y) holding exactly the diff. It
   * lies inside the scratch directory; the builder renames it into the store.
   */
  diff(rootfs: PreparedRootfs, parents: string[]): Promise<string>;
  /** Removes what is left of the scratch contents (call after the diff was renamed away, or to discard it). */
  release(rootfs: PreparedRootfs): Promise<void>;
}
