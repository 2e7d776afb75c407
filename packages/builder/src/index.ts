// @tbuild/builder — turns a Dockerfile and a context into an image: the solver, the
// sandbox executors, the snapshotters and the file operations, behind `build()`.
export * from "./api-types.js";
export { build } from "./build.js";
// Every error class a build rejects with (directly, or as a StepError's `cause`).
export { StepFailedError, StepError, BuildAbortedError, BuildOptionError, BuildCheckError } from "./solve/errors.js";
export { DockerfileSyntaxError } from "@tbuild/parser";
export { ContextError, CacheError, StoreError, BlobNotFoundError, BlobCorruptedError, DigestMismatchError } from "@tbuild/cache";
export { OciError, type OciErrorCode } from "@tbuild/oci";
export { ensureSnapshotFromBlob, chainsOf } from "./image-state/layers.js";
export { commitDiff, type CommitDiffOptions, type CommitDiffResult } from "./image-transfer/commit-diff.js";
export { normalizeImageName } from "./image-state/names.js";
export * from "./fs/index.js";
export * from "./fileops/index.js";
export { selectExecutor, SandboxError, type Executor, type RunSpec, type MountSpec } from "./sandbox/index.js";
export { UnshareExecutor, type ContainerProcessOptions, type PreparedProcess, type ExecSpec } from "./sandbox/unshare-executor.js";
export { execFailed, setupFailed } from "./sandbox/unshare-executor.js";
export { defaultResolvConf } from "./sandbox/etc-files.js";
export { selectSnapshotter, type Snapshotter, type PreparedRootfs } from "./snapshot/index.js";
// Moving images in and out of the store (also its own entry point, @tbuild/builder/transfer).
export * from "./transfer.js";
