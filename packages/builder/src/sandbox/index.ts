// The sandbox layer: executors that run a RUN step in fresh namespaces on a prepared rootfs.
export type { Executor, MountSpec, RunSpec } from "./types.js";
export { SandboxError, type SandboxErrorCode } from "./errors.js";
export { selectExecutor, type ExecutorKind } from "./select.js";
export { RuncExecutor } from "./runc-executor.js";
export { UnshareExecutor } from "./unshare-executor.js";
export { stepDirsRemoved } from "./runtime-dir.js";
export { DEFAULT_HOSTNAME, defaultEtcHosts, defaultResolvConf } from "./etc-files.js";
export { DOCKER_DEFAULT_CAPS } from "./capabilities.js";
