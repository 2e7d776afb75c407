// A Control API client (moby.buildkit.v1.Control) for any builder address. buildkitd is
// dialled by @grpc/grpc-js directly (unix socket, or TCP with TLS); Docker's embedded BuildKit
// is reached through a private unix socket whose every connection is an upgraded
// `POST /grpc` on the Engine API (docker-upgrade.ts), because grpc-js dials its own sockets.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import * as control from "../gen/github.com/moby/buildkit/api/services/control/control_pb.js";
import * as gateway from "../gen/github.com/moby/buildkit/frontend/gateway/pb/gateway_pb.js";
import { grpcDefinition } from "../wire/grpc-service.js";
import type { BuilderAddress } from "./address.js";
import { dockerUpgrade } from "./docker-upgrade.js";

const ControlClient = grpc.makeGenericClientConstructor(grpcDefinition(control.Control), "Control");
const BridgeClient = grpc.makeGenericClientConstructor(grpcDefinition(gateway.LLBBridge), "LLBBridge");
type Untyped = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** Large definitions (heredoc files) and status batches exceed grpc-js's 4 MiB default. */
const channelOptions: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 128 << 20,
  "grpc.max_send_message_length": 128 << 20,
};

export interface ControlConnection {
  readonly address: BuilderAddress;
  solve(req: control.SolveRequest, signal?: AbortSignal): Promise<control.SolveResponse>;
  /** Progress of the solve whose ref is `ref`, until it ends. */
  status(ref: string, signal?: AbortSignal): AsyncIterable<control.StatusResponse>;
  info(): Promise<control.InfoResponse>;
  listWorkers(): Promise<control.ListWorkersResponse>;
  /** Resolves once the connection is up; rejects if it is not within `ms` (a refused TLS handshake never is). */
  ready(ms: number): Promise<void>;
  /**
   * The LLB bridge of the build whose ref is `buildRef` (a Solve with neither definition nor
   * frontend waits for it): the client acts as the frontend, as buildx's client.Build does,
   * so that its result can carry metadata (the image config) to the exporter.
   */
  bridge(buildRef: string): {
    solve(req: gateway.SolveRequest, signal?: AbortSignal): Promise<gateway.SolveResponse>;
    return(req: gateway.ReturnRequest): Promise<gateway.ReturnResponse>;
    /** The daemon's frontend API and LLB capabilities (gateway.PongResponse). */
    ping(): Promise<gateway.PongResponse>;
  };
  /** The bidirectional stream of Control.Session (a session tunnelled through the Control API). */
  session(metadata: Record<string, string | string[]>): grpc.ClientDuplexStream<control.BytesMessage, control.BytesMessage>;
  close(): void;
}

export function connectControl(address: BuilderAddress): ControlConnection {
  let target: string;
  let creds = grpc.credentials.createInsecure();
  const cleanups: (() => void)[] = [];
  if (address.kind === "docker") {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tbuild-grpc-"));
    const sock = path.join(dir, "grpc.sock");
    const relay = net.createServer((conn) => {
      // Listening at once: the client may give up (EPIPE, reset) while the upgrade is asked for.
      conn.on("error", () => conn.destroy());
      dockerUpgrade(address.socketPath, "/grpc").then(
        (up) => {
          const end = () => { conn.destroy(); up.destroy(); };
          up.on("error", end).on("close", end);
          if (conn.destroyed) return end();
          conn.on("error", end).on("close", end);
          conn.pipe(up).pipe(conn);
        },
        () => conn.destroy(),
      );
    });
    relay.listen(sock);
    relay.unref();
    cleanups.push(() => { relay.close(); rmSync(dir, { recursive: true, force: true }); });
    target = `unix://${sock}`;
  } else {
    target = address.target;
    if (address.tls) {
      const t = address.tls;
      creds = grpc.credentials.createSsl(
        t.cacert ? readFileSync(t.cacert) : null,
        t.key ? readFileSync(t.key) : null,
        t.cert ? readFileSync(t.cert) : null,
      );
    }
  }
  const opts = address.kind === "buildkitd" && address.tls?.serverName ? { ...channelOptions, "grpc.ssl_target_name_override": address.tls.serverName } : channelOptions;
  const client = new ControlClient(target, creds, opts) as unknown as Untyped;
  const bridgeClient = new BridgeClient(target, creds, { ...opts, channelOverride: client.getChannel() }) as unknown as Untyped;
  const unaryOn = <T>(c: Untyped, method: string, req: unknown, signal?: AbortSignal, md = new grpc.Metadata()) =>
    new Promise<T>((resolve, reject) => {
      const call = c[method]!(req, md, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))) as grpc.ClientUnaryCall;
      signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  const unary = <T>(method: string, req: unknown, signal?: AbortSignal) => unaryOn<T>(client, method, req, signal);
  return {
    address,
    solve: (req, signal) => unary<control.SolveResponse>("Solve", req, signal),
    info: () => unary<control.InfoResponse>("Info", create(control.InfoRequestSchema, {})),
    listWorkers: () => unary<control.ListWorkersResponse>("ListWorkers", create(control.ListWorkersRequestSchema, {})),
    ready: (ms) => new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + ms, (err) => (err ? reject(err) : resolve()))),
    status(ref, signal) {
      const call = client["Status"]!(create(control.StatusRequestSchema, { Ref: ref })) as grpc.ClientReadableStream<control.StatusResponse>;
      signal?.addEventListener("abort", () => call.cancel(), { once: true });
      return call;
    },
    bridge(buildRef) {
      // The daemon finds the build by this header (control/gateway: lookupForwarder).
      const md = () => {
        const m = new grpc.Metadata();
        m.set("buildkit-controlapi-buildid", buildRef);
        return m;
      };
      return {
        solve: (req, signal) => unaryOn<gateway.SolveResponse>(bridgeClient, "Solve", req, signal, md()),
        return: (req) => unaryOn<gateway.ReturnResponse>(bridgeClient, "Return", req, undefined, md()),
        ping: () => unaryOn<gateway.PongResponse>(bridgeClient, "Ping", create(gateway.PingRequestSchema, {}), undefined, md()),
      };
    },
    session(metadata) {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) for (const one of Array.isArray(v) ? v : [v]) md.add(k, one);
      return client["Session"]!(md) as grpc.ClientDuplexStream<control.BytesMessage, control.BytesMessage>;
    },
    close() {
      bridgeClient.close();
      client.close();
      for (const c of cleanups) c();
    },
  };
}
