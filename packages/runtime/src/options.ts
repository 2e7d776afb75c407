// Docker's spellings of a container's mounts, ports, restart policy and env files, shared by
// `tbuild run` and `compose up`. Every parser throws a RuntimeError naming the bad value.
import path from "node:path";
import { RuntimeError } from "./errors.js";
import type { MountConfig, PortBinding, RestartPolicy } from "./containers/types.js";

/** A mount as asked: a volume's name may be empty (anonymous). */
export type MountRequest =
  | { type: "bind"; source: string; target: string; readonly: boolean; create: boolean }
  | { type: "volume"; name: string; target: string; readonly: boolean; nocopy: boolean }
  | { type: "tmpfs"; target: string; size?: number; mode?: number };

function checkTarget(target: string, flag: string): string {
  if (!target.startsWith("/")) throw new RuntimeError(`invalid ${flag}: the container path "${target}" must be absolute`);
  if (path.posix.normalize(target) === "/") throw new RuntimeError(`invalid ${flag}: a volume cannot be mounted over the container's root directory`);
  return path.posix.normalize(target).replace(/(.)\/+$/, "$1");
}

/** -v SRC:DST[:OPTS] | -v DST (anonymous volume). A SRC starting with / or . is a host path (made if missing). */
export function parseVolumeFlag(spec: string, cwd = process.cwd()): MountRequest {
  const parts = spec.split(":");
  if (parts.length === 1) return { type: "volume", name: "", target: checkTarget(parts[0]!, `-v ${spec}`), readonly: false, nocopy: false };
  if (parts.length > 3) throw new RuntimeError(`invalid -v ${spec}: expected SOURCE:TARGET[:OPTIONS]`);
  const [src, dst, opts = ""] = parts as [string, string, string?];
  let readonly = false;
  let nocopy = false;
  for (const o of opts.split(",").filter(Boolean)) {
    if (o === "ro") readonly = true;
    else if (o === "rw") readonly = false;
    else if (o === "nocopy") nocopy = true;
    else if (o === "z" || o === "Z" || /^r?(private|shared|slave)$/.test(o)) continue; // SELinux labels and propagation: nothing to do here
    else throw new RuntimeError(`invalid -v ${spec}: unknown option "${o}" (ro, rw, nocopy)`);
  }
  const target = checkTarget(dst, `-v ${spec}`);
  if (src.startsWith("/") || src.startsWith(".")) return { type: "bind", source: path.resolve(cwd, src), target, readonly, create: true };
  if (src === "") throw new RuntimeError(`invalid -v ${spec}: empty source`);
  return { type: "volume", name: src, target, readonly, nocopy };
}

function parseOctal(v: string, what: string): number {
  if (!/^[0-7]{1,4}$/.test(v)) throw new RuntimeError(`invalid ${what} "${v}": expected an octal mode such as 1777`);
  return parseInt(v, 8);
}

/** A size such as 64m, 1g, 4096 (bytes). */
export function parseSize(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v);
  if (!m) throw new RuntimeError(`invalid ${what} "${v}": expected a size such as 64m`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.floor(Number(m[1]) * mult);
}

/** --mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…]. */
export function parseMountFlag(spec: string, cwd = process.cwd()): MountRequest {
  const kv = new Map<string, string>();
  for (const field of spec.split(",")) {
    const eq = field.indexOf("=");
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? "true" : field.slice(eq + 1);
    kv.set(k, v);
  }
  const get = (...keys: string[]) => keys.map((k) => kv.get(k)).find((v) => v !== undefined);
  const flag = `--mount ${spec}`;
  const type = get("type") ?? "volume";
  const dst = get("target", "destination", "dst");
  if (!dst) throw new RuntimeError(`invalid ${flag}: target= is required`);
  const target = checkTarget(dst, flag);
  const ro = get("readonly", "ro");
  const readonly = ro !== undefined && ro !== "false" && ro !== "0";
  const src = get("source", "src");
  const known = new Set(["type", "target", "destination", "dst", "source", "src", "readonly", "ro", "volume-nocopy", "tmpfs-size", "tmpfs-mode", "bind-propagation", "consistency"]);
  for (const k of kv.keys()) if (!known.has(k)) throw new RuntimeError(`invalid ${flag}: unknown key "${k}"`);
  if (type === "bind") {
    if (!src) throw new RuntimeError(`invalid ${flag}: a bind mount needs source=`);
    return { type: "bind", source: path.resolve(cwd, src), target, readonly, create: false };
  }
  if (type === "volume") {
    const nc = get("volume-nocopy");
    return { type: "volume", name: src ?? "", target, readonly, nocopy: nc !== undefined && nc !== "false" };
  }
  if (type === "tmpfs") {
    if (src) throw new RuntimeError(`invalid ${flag}: a tmpfs mount takes no source`);
    const size = get("tmpfs-size");
    const mode = get("tmpfs-mode");
    return { type: "tmpfs", target, ...(size ? { size: parseSize(size, "tmpfs-size") } : {}), ...(mode ? { mode: parseOctal(mode, "tmpfs-mode") } : {}) };
  }
  throw new RuntimeError(`invalid ${flag}: type must be bind, volume or tmpfs (not "${type}")`);
}

/** --tmpfs /path[:size=…,mode=…]. */
export function parseTmpfsFlag(spec: string): MountRequest {
  const [dst, opts = ""] = spec.split(/:(.*)/s) as [string, string?];
  const m: MountRequest = { type: "tmpfs", target: checkTarget(dst, `--tmpfs ${spec}`) };
  for (const o of opts.split(",").filter(Boolean)) {
    const [k, v = ""] = o.split("=");
    if (k === "size") m.size = parseSize(v, "tmpfs size");
    else if (k === "mode") m.mode = parseOctal(v, "tmpfs mode");
    else if (["rw", "noexec", "exec", "nosuid", "nodev"].includes(k!)) continue;
    else throw new RuntimeError(`invalid --tmpfs ${spec}: unknown option "${k}" (size, mode)`);
  }
  return m;
}

/** -p [IP:][HOST:]CONTAINER[/PROTO]; a missing HOST is refused (tbuild does not pick ports). */
export function parsePortFlag(spec: string): PortBinding {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) throw new RuntimeError(`invalid -p ${spec}: expected [IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]`);
  if (m[2] === undefined) throw new RuntimeError(`invalid -p ${spec}: give the host port too (HOST_PORT:CONTAINER_PORT); tbuild does not choose ports`);
  const port = (s: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RuntimeError(`invalid -p ${spec}: port ${s} is out of range`);
    return n;
  };
  return { hostIp: (m[1] ?? "0.0.0.0").replace(/^\[|\]$/g, ""), hostPort: port(m[2]), containerPort: port(m[3]!), protocol: (m[4] ?? "tcp") as "tcp" | "udp" };
}

/** --restart no|on-failure[:N]|always|unless-stopped. */
export function parseRestart(spec: string): RestartPolicy {
  const m = /^(no|on-failure|always|unless-stopped)(?::(\d+))?$/.exec(spec);
  if (!m || (m[2] !== undefined && m[1] !== "on-failure")) throw new RuntimeError(`invalid --restart ${spec}: expected no, on-failure[:MAX_RETRIES], always or unless-stopped`);
  return { name: m[1] as RestartPolicy["name"], maximumRetryCount: m[2] ? Number(m[2]) : 0 };
}

/**
 * An --env-file or -e entry: "K=V" as is, "K" takes the caller's value (dropped when unset).
 * Env files: one entry a line, # comments and blank lines skipped, no quoting (Docker's rules).
 */
export function envEntries(lines: string[], from: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (key === "" || /\s/.test(key)) throw new RuntimeError(`invalid environment variable "${raw}"`);
    if (eq >= 0) out.push(line);
    else if (from[key] !== undefined) out.push(`${key}=${from[key]}`);
  }
  return out;
}

/** Sets the entries of `over` on `base` (same key replaced in place, new keys appended). */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const e of over) {
    const k = e.slice(0, e.indexOf("="));
    const i = out.findIndex((x) => x.slice(0, x.indexOf("=")) === k);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

export type { MountConfig };
