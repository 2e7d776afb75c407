// Where a layer's content comes from.

import type { XattrMap } from "./xattr.js";

/**
 * The directory a layer is written from.
 * - "overlay-upper": an overlayfs upper dir (or a snapshot in that format): a char device
 *   0/0 is a whiteout, a directory with `trusted.overlay.opaque=y` is opaque.
 * - "dir": a plain tree; every entry is archived as it is.
 */
export type LayerSource = ({ kind: "overlay-upper"; dir: string } | { kind: "dir"; dir: string }) & {
  /**
   * The tree's extended attributes, if the caller has read them already (readXattrs of
   * `dir`, unchanged since): saves the writer its own getfattr process.
   */
  xattrs?: XattrMap;
};
