// @tbuild/llb — BuildKit's wire formats (generated from its .proto files), LLB definitions,
// the Control API client and the client side of a BuildKit session. It knows nothing of
// tbuild's solver: the builder's remote backend converts the IR with it.
export * from "./wire/index.js";
export { vertex, marshal, sortedRecord, type Vertex, type Output, type Marshalled } from "./definition/graph.js";
export * as ops from "./definition/ops.js";
export { parseBuilderAddress, BuilderAddressError, type BuilderAddress, type TlsFiles } from "./transport/address.js";
export { connectControl, type ControlConnection } from "./transport/control-client.js";
export { DockerUnreachableError, dockerUpgrade } from "./transport/docker-upgrade.js";
export { startSession, newId, type Session, type SessionOptions } from "./session/session.js";
export type { SyncedDir, TransferStats } from "./session/file-sync.js";
export type { SecretSource } from "./session/secrets.js";
export { STORE_ID_HEADER, contentHandlers, type ContentStores } from "./session/content-store.js";
export { defaultSshAgents, type SshAgents } from "./session/ssh-forward.js";
export type { ReceiveTarget, Receiver } from "./session/file-send.js";
