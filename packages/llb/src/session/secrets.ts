// The Secrets service: RUN --mount=type=secret asks the session for a secret by id; the
// value is read when asked (from a file or an environment variable of this process) and
// never enters the definition, so it reaches the step and no layer or cache key.
import { readFile } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { GetSecretResponseSchema, type GetSecretRequest, type GetSecretResponse } from "../gen/github.com/moby/buildkit/session/secrets/secrets_pb.js";

export interface SecretSource {
  id: string;
  src?: string;
  env?: string;
}

export function secretsHandlers(secrets: SecretSource[]) {
  return {
    GetSecret(call: grpc.ServerUnaryCall<GetSecretRequest, GetSecretResponse>, cb: grpc.sendUnaryData<GetSecretResponse>) {
      const s = secrets.find((x) => x.id === call.request.ID);
      // NotFound lets BuildKit skip an optional secret (required=false).
      if (!s) return cb({ code: 5, details: `secret ${call.request.ID} not found` });
      const value = s.env !== undefined ? Promise.resolve(Buffer.from(process.env[s.env] ?? "")) : readFile(s.src!);
      value.then((data) => cb(null, create(GetSecretResponseSchema, { data })), (e: Error) => cb({ code: 13, details: `secret ${s.id}: ${e.message}` }));
    },
  };
}
