// @tbuild/builder/transfer — images into and out of the store without the builder: pull,
// push, blob sources over stored images, ingest of archives and layouts, import of a rootfs.
// Its own entry point because the commands that only move images (push, pull, save, load,
// import) need none of the solver, sandbox or file operations: importing the whole package
// made every such command load and initialise all of it (~20 ms of a 0.15 s push).
export { importRootfs, type ImportOptions, type ImportResult } from "./image-transfer/import-rootfs.js";
export { pullToStore, registryClient, type PullOptions, type PulledToStore } from "./image-transfer/pull.js";
export { pushContent, type PushOptions as PushToRegistryOptions } from "./image-transfer/push.js";
export { ingestImage, ingestManifest, manifestFor } from "./image-transfer/ingest.js";
export { storedImagesBlobSource, StoreBlobSource } from "./export/store-blobs.js";
