// Extended attributes: the implementation lives in @tbuild/oci (layer/xattr.ts), which the
// tar writer and unpacker share; the builder's modules import it through here.
export { isOverlayXattr, readXattrs as readXattrTree, readXattrsOf, writeXattrs, type Xattrs } from "@tbuild/oci";
