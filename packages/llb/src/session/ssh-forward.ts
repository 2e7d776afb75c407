// The SSH service (moby.sshforward.v1, session/sshforward): RUN --mount=type=ssh asks the
// session whether it forwards an agent of that id (CheckAgent; NotFound lets an optional
// mount be skipped), then opens one ForwardAgent stream per connection to the socket in the
// container, its id in the `buildkit.ssh.id` metadata. Each stream is relayed to a connection
// to the agent of that id (SSH_AUTH_SOCK for "default", as `docker build --ssh default`),
// read-only as BuildKit's sshprovider makes it (readOnlyAgent over x/crypto's agent server,
// which serves only listing and signing): every other request — adding, removing (also
// OpenSSH's protocol-1 REMOVE_ALL, code 9, which ssh-agent still honours) or locking keys,
// extensions — is answered SSH_AGENT_FAILURE without reaching the agent.
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import type grpc from "@grpc/grpc-js";
import { BytesMessageSchema, CheckAgentResponseSchema, type BytesMessage, type CheckAgentRequest, type CheckAgentResponse } from "../gen/github.com/moby/buildkit/session/sshforward/ssh_pb.js";

/** Agent sockets by id. */
export type SshAgents = Map<string, string>;

/** The ids a client forwards by default: "default" when an agent runs ($SSH_AUTH_SOCK). */
export function defaultSshAgents(env: NodeJS.ProcessEnv = process.env): SshAgents {
  return new Map(env.SSH_AUTH_SOCK ? [["default", env.SSH_AUTH_SOCK]] : []);
}

// The requests a read-only agent passes on (draft-miller-ssh-agent): REQUEST_IDENTITIES, SIGN_REQUEST.
const ALLOWED = new Set([11, 13]);
const SSH_AGENT_FAILURE = Buffer.from([0, 0, 0, 1, 5]);

export function sshHandlers(agents: SshAgents) {
  return {
    CheckAgent(call: grpc.ServerUnaryCall<CheckAgentRequest, CheckAgentResponse>, cb: grpc.sendUnaryData<CheckAgentResponse>) {
      const id = call.request.ID || "default";
      if (!agents.has(id)) return cb({ code: 5, details: `no SSH agent forwarded for id "${id}"${id === "default" ? " (SSH_AUTH_SOCK is not set)" : ""}` });
      cb(null, create(CheckAgentResponseSchema, {}));
    },
    ForwardAgent(call: grpc.ServerDuplexStream<BytesMessage, BytesMessage>) {
      const id = String(call.metadata.get("buildkit.ssh.id")[0] ?? "") || "default";
      const sock = agents.get(id);
      if (!sock) {
        call.destroy(Object.assign(new Error(`no SSH agent forwarded for id "${id}"`), { code: 5 }));
        return;
      }
      relayReadOnly(call, sock);
    },
  };
}

/**
 * Relays one agent connection. The agent protocol is request/response in order on a
 * connection, so requests are handled one at a time: a refused one is answered here, the
 * others are written to the agent and its one reply is sent back.
 */
function relayReadOnly(call: grpc.ServerDuplexStream<BytesMessage, BytesMessage>, sock: string): void {
  const agent = net.connect(sock);
  let fromDaemon: Buffer = Buffer.alloc(0);
  let fromAgent: Buffer = Buffer.alloc(0);
  let waiting = false; // a request is at the agent
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    agent.destroy();
    call.end();
  };
  const send = (b: Buffer) => ended || call.write(create(BytesMessageSchema, { data: b }));
  const frame = (b: Buffer): [Buffer, Buffer] | undefined => {
    if (b.length < 4) return undefined;
    const n = b.readUInt32BE(0) + 4;
    return b.length < n ? undefined : [b.subarray(0, n), b.subarray(n)];
  };
  const pump = () => {
    while (!waiting) {
      const f = frame(fromDaemon);
      if (!f) return;
      const [msg, rest] = f;
      fromDaemon = rest;
      if (msg.length < 5 || !ALLOWED.has(msg[4]!)) send(SSH_AGENT_FAILURE);
      else {
        waiting = true;
        agent.write(msg);
      }
    }
  };
  agent.on("data", (d: Buffer) => {
    fromAgent = Buffer.concat([fromAgent, d]);
    let f: [Buffer, Buffer] | undefined;
    while ((f = frame(fromAgent))) {
      send(f[0]);
      fromAgent = f[1];
      waiting = false;
    }
    pump();
  });
  agent.on("error", end).on("close", end);
  call.on("data", (m: BytesMessage) => {
    fromDaemon = Buffer.concat([fromDaemon, Buffer.from(m.data)]);
    pump();
  });
  call.on("end", end).on("error", end);
}
