// BuildKit's wire types, generated from the vendored .proto files (../gen, by scripts/gen.sh).
export * as pb from "../gen/github.com/moby/buildkit/solver/pb/ops_pb.js";
export * as control from "../gen/github.com/moby/buildkit/api/services/control/control_pb.js";
export * as filesync from "../gen/github.com/moby/buildkit/session/filesync/filesync_pb.js";
export * as secrets from "../gen/github.com/moby/buildkit/session/secrets/secrets_pb.js";
export * as auth from "../gen/github.com/moby/buildkit/session/auth/auth_pb.js";
export * as fsutil from "../gen/github.com/tonistiigi/fsutil/types/wire_pb.js";
export * as fsstat from "../gen/github.com/tonistiigi/fsutil/types/stat_pb.js";
export * as gateway from "../gen/github.com/moby/buildkit/frontend/gateway/pb/gateway_pb.js";
export * as sshforward from "../gen/github.com/moby/buildkit/session/sshforward/ssh_pb.js";
export * as health from "../gen/grpc/health/v1/health_pb.js";
export { failStream, grpcDefinition, methodPath } from "./grpc-service.js";
