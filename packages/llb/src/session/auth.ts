// The Auth service: when the daemon pulls or pushes, it asks the session for the registry's
// credentials, which come from the Docker config (~/.docker/config.json, credential helpers)
// through @tbuild/oci, as for local builds. Token exchange stays on the daemon's side.
import { create } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { dockerCredentials } from "@tbuild/oci";
import { CredentialsResponseSchema, type CredentialsRequest, type CredentialsResponse } from "../gen/github.com/moby/buildkit/session/auth/auth_pb.js";

export function authHandlers() {
  return {
    Credentials(call: grpc.ServerUnaryCall<CredentialsRequest, CredentialsResponse>, cb: grpc.sendUnaryData<CredentialsResponse>) {
      // Docker Hub is named registry-1.docker.io on the wire, docker.io in config files.
      const host = call.request.Host === "registry-1.docker.io" ? "docker.io" : call.request.Host;
      dockerCredentials(host).then(
        (c) => cb(null, create(CredentialsResponseSchema, c?.username ? { Username: c.username, Secret: c.password ?? "" } : c?.identityToken ? { Secret: c.identityToken } : {})),
        () => cb(null, create(CredentialsResponseSchema, {})),
      );
    },
  };
}
