// @tbuild/runtime — containers, volumes and networks on tbuild's store and sandbox: what
// `tbuild run`, the container commands and `compose up` use. Loaded lazily by the CLI.
import "./networks/attach.js"; // registers the network clean-up of containers whose monitor died
export { RuntimeError } from "./errors.js";
export { RuntimeLayout } from "./layout.js";
export type * from "./containers/types.js";
export { ContainerStore, supervisorAlive, type Container } from "./containers/container-store.js";
export { createContainer, type CreateRequest } from "./containers/create.js";
export { Supervisor, type SuperviseIO } from "./containers/supervisor.js";
export { startDetached, stopContainer, killContainer, removeContainerForce, execInContainer, signalContainer, type ExecRequest } from "./containers/operations.js";
export { readLog, type LogLine } from "./containers/log-file.js";
export { inspectContainer } from "./containers/inspect.js";
export { createVolume, getVolume, listVolumes, removeVolume, type VolumeRecord } from "./volumes/volume-store.js";
export { createNetwork, getNetwork, listNetworks, removeNetwork, type NetworkRecord, type CreateNetworkRequest } from "./networks/network-store.js";
export { parseVolumeFlag, parseMountFlag, parseTmpfsFlag, parsePortFlag, parseRestart, envEntries, mergeEnv, parseSize, type MountRequest } from "./options.js";
export { resolveRoot, volumeUsers, networkUsers } from "./users.js";
export { waitForCondition, type WaitCondition } from "./containers/wait.js";
export { commitContainer, type CommitRequest } from "./containers/commit.js";
