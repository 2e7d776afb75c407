// @tbuild/oci — image formats and registries: layer tars (write, unpack, whiteouts),
// compression, image config/manifest/index documents, OCI layout and archives, and the
// registry client. It knows nothing about builds or caching policy and imports no other
// tbuild package.
export * from "./types.js";
export * from "./errors.js";
export * from "./digest.js";
// Layers
export * from "./layer/source.js";
export { inUserNamespace, isOverlayXattr, overlayXattrPrefix, readXattrs, readXattrsOf, writeXattrs, xattrReader, type XattrMap, type Xattrs } from "./layer/xattr.js";
export { loadNativeAddon } from "./util/native-addon.js";
export * from "./layer/compression.js";
export * from "./layer/write-layer.js";
export * from "./layer/unpack.js";
export type { WhiteoutMode } from "./layer/extractor.js";
export { readTar, type TarEntry } from "./tar/reader.js";
export type { TarHeader, TarEntryType } from "./tar/header.js";
// Image documents
export * from "./image/documents.js";
export * from "./image/convert.js";
export * from "./image/platform.js";
// Layouts and archives
export * from "./layout/blob-source.js";
export { planExport, refAnnotations, REF_NAME, CONTAINERD_NAME, type ExportImage, type ExportIndex, type ExportRoot } from "./layout/export-roots.js";
export { findImage, type ImageSet, type LoadedImage, type ResolvedManifest } from "./layout/read-images.js";
export * from "./layout/oci-layout.js";
export * from "./layout/oci-archive.js";
export * from "./layout/docker-archive.js";
// Utilities shared with the builder
export { mapLimit } from "./util/map-limit.js";
// Registries
export * from "./registry/reference.js";
export * from "./registry/client.js";
export { dockerCredentials, dockerConfigDir, type Credentials } from "./registry/credentials.js";
export { parseChallenges, type Challenge } from "./registry/challenge.js";
export { isLoopback, type RegistryHostOptions, type Timeouts, type TransportOptions } from "./registry/transport.js";
export type { BlobPushOutcome } from "./registry/blobs.js";
