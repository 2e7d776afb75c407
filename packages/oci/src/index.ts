// @tbuild/oci — image formats and registries: layer tars (write, unpack, whiteouts),
// compression, image config/manifest/index types, OCI layout and archives, registry client.
// It knows nothing about builds or caching policy and imports no other tbuild package.
export * from "./types.js";
export * from "./errors.js";
export * from "./digest.js";
export * from "./layer/source.js";
export * from "./layer/compression.js";
export * from "./layer/write-layer.js";
export * from "./layer/unpack.js";
export type { WhiteoutMode } from "./layer/extractor.js";
export { readTar, type TarEntry } from "./tar/reader.js";
export type { TarHeader, TarEntryType } from "./tar/header.js";
