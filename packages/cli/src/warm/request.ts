// A client's request to a warm worker (the format is tbuild-client.c's) and whether the
// worker may run it as the client would have run it cold.
import { readFileSync, readlinkSync } from "node:fs";
import { commandWord, groupOf, type CommandGroup } from "../command-word.js";

export interface WarmRequest {
  cwd: string;
  umask: number;
  argv: string[];
  env: Record<string, string>;
}

/** Decodes the request's NUL-terminated fields: cwd, umask (octal), argc, the arguments, the environment. */
export function parseRequest(payload: Buffer): WarmRequest {
  const fields = payload.toString("utf8").split("\0");
  if (fields.at(-1) === "") fields.pop();
  const [cwd, umask, argc] = fields;
  const n = Number(argc);
  if (!cwd || !umask || !/^[0-7]+$/.test(umask) || !Number.isInteger(n) || n < 0 || fields.length < 3 + n) throw new Error("malformed warm request");
  const env: Record<string, string> = {};
  for (const entry of fields.slice(3 + n)) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { cwd, umask: parseInt(umask, 8), argv: fields.slice(3, 3 + n), env };
}

/**
 * The commands a worker runs. The others (containers, compose, volumes, networks) hand the
 * terminal or signals to containers that may outlive the command, so they start cold.
 */
const WARM_GROUPS: ReadonlySet<CommandGroup> = new Set(["build", "images", "store", "version"]);

/** Variables Node or OpenSSL read once, at start-up: a worker started with other values is not this client's Node. */
const START_UP_VARIABLE = /^(NODE_|UV_|OPENSSL_|SSL_CERT_)/;

/** The namespaces a client must share with the worker: its paths, processes and network are the worker's. */
const NAMESPACES = ["mnt", "pid", "net", "user", "ipc", "uts", "cgroup"];

export interface Worker {
  /** The environment the worker's Node started with. */
  startEnv: NodeJS.ProcessEnv;
  gid: number;
  /** Its supplementary groups (supplementaryGroups). */
  groups: number[];
}

/** Why the worker must not run `req` from process `peer.pid` (then the client runs it cold), or undefined. */
export function declineReason(req: WarmRequest, peer: { pid: number; gid: number }, self: Worker): string | undefined {
  const word = commandWord(req.argv);
  const group = word === undefined ? "build" : groupOf(word) ?? "build";
  if (!WARM_GROUPS.has(group)) return `${word} starts cold`;
  const keys = new Set([...Object.keys(req.env), ...Object.keys(self.startEnv)].filter((k) => START_UP_VARIABLE.test(k)));
  for (const k of keys) if (req.env[k] !== self.startEnv[k]) return `${k} differs from the worker's`;
  if (peer.gid !== self.gid) return "another group";
  const groups = supplementaryGroups(peer.pid);
  if (groups === undefined || groups.join() !== self.groups.join()) return "other supplementary groups";
  for (const ns of NAMESPACES) {
    if (namespaceOf("self", ns) !== namespaceOf(String(peer.pid), ns)) return `another ${ns} namespace`;
  }
  return undefined;
}

/** A process's supplementary groups, sorted, as the kernel lists them. */
export function supplementaryGroups(pid: number): number[] | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^Groups:[ \t]*(.*)$/m);
    return line ? line[1]!.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b) : undefined;
  } catch {
    return undefined;
  }
}

function namespaceOf(pid: string, ns: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}
