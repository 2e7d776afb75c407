// failStream against a real grpc-js server and client: the error status reaches the caller.
import grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema } from "../gen/grpc/health/v1/health_pb.js";
import { failStream, grpcDefinition } from "./grpc-service.js";

let server: grpc.Server;
let client: grpc.Client & Record<string, (...a: unknown[]) => grpc.ClientReadableStream<unknown>>;
let how: "fail" | "destroy";

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(grpcDefinition(Health), {
    Check: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: 12 }),
    Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      const err = Object.assign(new Error("no such service"), { code: 5 });
      if (how === "fail") failStream(call, err);
      else call.destroy(err);
    },
  } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((r, j) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  const Client = grpc.makeGenericClientConstructor(grpcDefinition(Health), "Health");
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
});
afterAll(() => {
  client?.close();
  server?.forceShutdown();
});

const watch = () =>
  new Promise<string>((resolve) => {
    const call = client.Watch!(create(HealthCheckRequestSchema, { service: "x" }));
    call.on("data", () => {});
    call.on("error", (e: grpc.ServiceError) => resolve(`error ${e.code} ${e.details}`));
    call.on("end", () => resolve("end"));
    setTimeout(() => resolve("no status within 2 s"), 2000).unref();
  });

describe("failStream", () => {
  it("ends a server stream with the error's status", async () => {
    how = "fail";
    expect(await watch()).toBe("error 5 no such service");
  });

  it("is needed: grpc-js's destroy(err) sends no status, and the caller waits", async () => {
    how = "destroy";
    expect(await watch()).toBe("no status within 2 s");
  });
});
