// grpc.health.v1.Health: BuildKit checks a session's health every few seconds and closes
// a session that does not answer (session/grpc.go monitorHealth).
import { create } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus, HealthCheckResponseSchema, type HealthCheckRequest, type HealthCheckResponse } from "../gen/grpc/health/v1/health_pb.js";

export function healthHandlers() {
  return {
    Check(_call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: grpc.sendUnaryData<HealthCheckResponse>) {
      cb(null, create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING }));
    },
  };
}
