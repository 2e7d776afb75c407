// Filesystem views for file operations: a read-only merged view of layer snapshots, and
// path resolution that never leaves its root.
export { LayeredView } from "./layered-view.js";
export { ViewError, entryTypeOfMode, type EntryType, type ViewStat } from "./view-types.js";
export { cleanPath, joinPath, parentPath, baseName, pathParts, isWithin, sortNames, compareBytes } from "./container-path.js";
export { resolveInRoot, SymlinkLoopError, MAX_SYMLINKS, type LinkInfo, type LinkLookup } from "./resolve-symlinks.js";
export { secureJoin, resolveHostPath, readFileInRoot } from "./host-path.js";
export { readXattrTree, readXattrsOf, writeXattrs, isOverlayXattr, type Xattrs } from "./xattr.js";
export { layerAttrs, type LayerAttrs } from "./layer-attrs.js";
