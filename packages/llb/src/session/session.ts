// A BuildKit session: the client is the gRPC *server* here. The daemon dials back through
// the connection the client opened and calls the services the client listed in its headers
// (session/session.go, session/grpc.go): FileSync for local directories, Secrets, Auth, SSH
// agent forwarding, Health, and containerd's content API for OCI layouts (content-store.ts).
// Docker: the connection is an upgraded `POST /session` (headers as HTTP headers);
// buildkitd: the Control.Session stream (the same headers as gRPC metadata), whose messages
// carry the bytes of an HTTP/2 connection.
import { randomBytes } from "node:crypto";
import { Duplex } from "node:stream";
import grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BytesMessageSchema, type BytesMessage } from "../gen/github.com/moby/buildkit/api/services/control/control_pb.js";
import { FileSync } from "../gen/github.com/moby/buildkit/session/filesync/filesync_pb.js";
import { Secrets } from "../gen/github.com/moby/buildkit/session/secrets/secrets_pb.js";
import { Auth } from "../gen/github.com/moby/buildkit/session/auth/auth_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { SSH } from "../gen/github.com/moby/buildkit/session/sshforward/ssh_pb.js";
import { Content } from "../gen/github.com/containerd/containerd/api/services/content/v1/content_pb.js";
import { contentHandlers, type ContentStores } from "./content-store.js";
import { grpcDefinition, methodPath } from "../wire/grpc-service.js";
import type { ControlConnection } from "../transport/control-client.js";
import { dockerUpgrade } from "../transport/docker-upgrade.js";
import { fileSyncHandlers, type SyncedDir, type TransferStats } from "./file-sync.js";
import { secretsHandlers, type SecretSource } from "./secrets.js";
import { authHandlers } from "./auth.js";
import { healthHandlers } from "./health.js";
import { sshHandlers, type SshAgents } from "./ssh-forward.js";
import { fileSendDefinition, makeReceiver, type ReceiveTarget, type Receiver } from "./file-send.js";

export interface SessionOptions {
  /** Directories served by name (`context`, `dockerfile`, named contexts). */
  dirs: Map<string, SyncedDir>;
  secrets: SecretSource[];
  /** SSH agents forwarded by id (RUN --mount=type=ssh); none when absent. */
  ssh?: SshAgents;
  /** BuildKit keys its local-source cache by this (the shared key hint of the context). */
  sharedKey: string;
  name?: string;
  onTransfer?: (dirName: string, s: TransferStats) => void;
  /** Where an exporter's result comes back (local, tar, oci, docker); offers FileSend. */
  receive?: ReceiveTarget;
  /** OCI layouts the daemon reads or writes by store id (containerd's content API; oci-layout:// contexts, type=local caches). */
  contentStores?: ContentStores;
}

export interface Session {
  id: string;
  /** Present when `receive` was given: settles once the export is written. */
  receiver?: Receiver;
  close(): void;
}

/** Random id as BuildKit's identity.NewID: 25 base-36 characters. */
export function newId(): string {
  const b = randomBytes(16);
  let n = BigInt(`0x${b.toString("hex")}`);
  let s = "";
  for (let i = 0; i < 25; i++) {
    s += "0123456789abcdefghijklmnopqrstuvwxyz"[Number(n % 36n)];
    n /= 36n;
  }
  return s;
}

/** Starts a session on the daemon behind `conn`; it lasts until close(). */
export async function startSession(conn: ControlConnection, opts: SessionOptions): Promise<Session> {
  const id = newId();
  const server = new grpc.Server({ "grpc.max_receive_message_length": 64 << 20, "grpc.max_send_message_length": 64 << 20 });
  const services: [GenService<GenServiceMethods>, grpc.UntypedServiceImplementation, string[]][] = [
    [FileSync, fileSyncHandlers(opts.dirs, opts.onTransfer) as unknown as grpc.UntypedServiceImplementation, ["DiffCopy"]],
    [Secrets, secretsHandlers(opts.secrets) as unknown as grpc.UntypedServiceImplementation, ["GetSecret"]],
    [Auth, authHandlers() as unknown as grpc.UntypedServiceImplementation, ["Credentials"]],
    [Health, healthHandlers() as unknown as grpc.UntypedServiceImplementation, ["Check"]],
    [SSH, sshHandlers(opts.ssh ?? new Map()) as unknown as grpc.UntypedServiceImplementation, ["CheckAgent", "ForwardAgent"]],
  ];
  if (opts.contentStores?.size) services.push([Content, contentHandlers(opts.contentStores) as unknown as grpc.UntypedServiceImplementation, Content.methods.map((m) => m.name)]);
  const methods: string[] = [];
  for (const [svc, impl, offered] of services) {
    server.addService(grpcDefinition(svc), impl);
    for (const m of offered) methods.push(methodPath(svc, m));
  }
  let receiver: Receiver | undefined;
  if (opts.receive) {
    const r = makeReceiver(opts.receive);
    server.addService(fileSendDefinition as unknown as grpc.ServiceDefinition, r.handlers as unknown as grpc.UntypedServiceImplementation);
    methods.push(fileSendDefinition.DiffCopy.path);
    receiver = r.receiver;
  }
  const headers = {
    "X-Docker-Expose-Session-Uuid": id,
    "X-Docker-Expose-Session-Name": opts.name ?? "tbuild",
    "X-Docker-Expose-Session-Sharedkey": opts.sharedKey,
    "X-Docker-Expose-Session-Grpc-Method": methods,
  };
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  let socket: Duplex;
  if (conn.address.kind === "docker") {
    socket = await dockerUpgrade(conn.address.socketPath, "/session", headers);
  } else {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    socket = streamAsSocket(conn.session(lower));
  }
  // A daemon that hangs up mid-write must not crash the process: the build fails through
  // its Solve call instead, which sees the session gone.
  socket.on("error", () => socket.destroy());
  injector.injectConnection(socket);
  return {
    id,
    ...(receiver ? { receiver } : {}),
    close() {
      socket.destroy();
      injector.destroy();
      server.forceShutdown();
    },
  };
}

/** The Control.Session stream as a byte stream (BuildKit's grpchijack does the same in Go). */
function streamAsSocket(call: grpc.ClientDuplexStream<BytesMessage, BytesMessage>): Duplex {
  const d = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      call.write(create(BytesMessageSchema, { data: chunk }), cb);
    },
    final(cb) {
      call.end();
      cb();
    },
    read() {},
    destroy(err, cb) {
      call.cancel();
      cb(err);
    },
  });
  call.on("data", (m: BytesMessage) => d.push(Buffer.from(m.data)));
  call.on("end", () => d.push(null));
  call.on("error", (e) => d.destroy(e));
  return d;
}
