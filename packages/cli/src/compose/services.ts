// What `compose up` runs: each service's container settings from the compose model (the
// keys tbuild supports: image, build, command, entrypoint, environment, env_file, ports,
// volumes, tmpfs, networks, restart, depends_on, healthcheck, working_dir, user, hostname,
// read_only, labels, stop_grace_period, container_name), the top-level volumes and
// networks with compose's names (`<project>_<name>`, `external` ones as named), and the
// services in depends_on order. Keys tbuild does not run are refused, never ignored.

import { resolve } from "node:path";
import { CommandError } from "../errors.js";
import { parseDuration } from "../options/duration.js";
import { asMap, keyValues, requireStr, str, strList, type ComposeProject } from "./project.js";

export interface DependsOn {
  service: string;
  condition: "service_started" | "service_healthy" | "service_completed_successfully";
}

export interface ServiceRun {
  service: string;
  /** The image to run: `image:`, else the name `compose build` gives the built image. */
  image: string;
  build: boolean;
  containerName: string;
  command?: string[];
  entrypoint?: string[];
  environment: string[];
  envFiles: string[];
  ports: string[];
  /** -v style strings (sources already resolved: host paths absolute, volume names prefixed). */
  volumes: string[];
  tmpfs: string[];
  network: string;
  aliases: string[];
  restart: string;
  dependsOn: DependsOn[];
  healthcheck?: { test: string[]; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number } | "disabled";
  workingDir?: string;
  user?: string;
  hostname?: string;
  readOnly: boolean;
  labels: Record<string, string>;
  stopTimeout?: number;
}

export interface ProjectResources {
  /** compose name → the runtime's name; `create` false for external ones (they must exist). */
  networks: Map<string, { name: string; create: boolean; driver?: string; internal: boolean; subnet?: string; options: Record<string, string> }>;
  volumes: Map<string, { name: string; create: boolean }>;
}

const SUPPORTED = new Set([
  "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "volumes", "tmpfs", "networks", "restart",
  "depends_on", "healthcheck", "working_dir", "user", "hostname", "read_only", "labels", "stop_grace_period", "container_name",
  "expose", "network_mode",
]);

/** POSIX-shell-like word splitting for string commands (quotes and backslashes), as compose's shlex. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let q: "'" | '"' | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = undefined;
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = undefined;
      else if (c === "\\" && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += c;
  }
  if (q) throw new CommandError(`unterminated quote in command: ${s}`);
  if (has || cur) out.push(cur);
  return out;
}

function commandOf(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return splitCommand(v);
  return strList(v, where);
}

function durationMs(v: unknown, where: string, dflt: number): number {
  if (v === undefined) return dflt;
  return parseDuration(requireStr(v, where), where);
}

/** The project's networks and volumes with their runtime names. */
export function projectResources(p: ComposeProject): ProjectResources {
  const networks: ProjectResources["networks"] = new Map([["default", { name: `${p.name}_default`, create: true, internal: false, options: {} }]]);
  for (const [k, raw] of Object.entries(p.model.networks === undefined ? {} : asMap(p.model.networks, "networks", p.file))) {
    const d = raw === null ? {} : asMap(raw, `networks.${k}`, p.file);
    const ext = d.external === true || (typeof d.external === "object" && d.external !== null);
    const ipam = d.ipam === undefined ? undefined : asMap(d.ipam, `networks.${k}.ipam`, p.file);
    const config = ipam?.config === undefined ? [] : (ipam.config as unknown[]);
    const subnet = config.length ? str(asMap(config[0], `networks.${k}.ipam.config[0]`, p.file).subnet) : undefined;
    networks.set(k, {
      name: str(d.name) ?? (ext ? k : `${p.name}_${k}`),
      create: !ext,
      ...(d.driver !== undefined ? { driver: requireStr(d.driver, `networks.${k}.driver`) } : {}),
      internal: d.internal === true,
      ...(subnet ? { subnet } : {}),
      options: keyValues(d.driver_opts, `networks.${k}.driver_opts`, p),
    });
  }
  const volumes: ProjectResources["volumes"] = new Map();
  for (const [k, raw] of Object.entries(p.model.volumes === undefined ? {} : asMap(p.model.volumes, "volumes", p.file))) {
    const d = raw === null ? {} : asMap(raw, `volumes.${k}`, p.file);
    const ext = d.external === true;
    if (d.driver !== undefined && d.driver !== "local") throw new CommandError(`volumes.${k}.driver: only the local driver is available`);
    volumes.set(k, { name: str(d.name) ?? (ext ? k : `${p.name}_${k}`), create: !ext });
  }
  return { networks, volumes };
}

/** Every service (or the ones named) with its container settings, in depends_on order. */
export function planServiceRuns(p: ComposeProject, res: ProjectResources, only: readonly string[] = []): ServiceRun[] {
  const services = asMap(p.model.services, "services", p.file);
  for (const s of only) if (!(s in services)) throw new CommandError(`no such service: ${s}`);
  const runs = new Map<string, ServiceRun>();
  for (const [service, raw] of Object.entries(services)) {
    const svc = raw === null ? {} : asMap(raw, `services.${service}`, p.file);
    const w = (k: string) => `services.${service}.${k}`;
    for (const k of Object.keys(svc)) {
      if (!SUPPORTED.has(k) && !k.startsWith("x-")) throw new CommandError(`${w(k)}: tbuild compose up does not support this key (supported: ${[...SUPPORTED].join(", ")})`);
    }
    const image = str(svc.image) ?? (svc.build !== undefined ? `${p.name}-${service}` : undefined);
    if (!image) throw new CommandError(`services.${service}: needs an image or a build section`);
    // Volumes: short "src:dst[:mode]" or long {type, source, target, read_only}; a named source must be declared.
    const volumes: string[] = [];
    const tmpfs = svc.tmpfs === undefined ? [] : typeof svc.tmpfs === "string" ? [svc.tmpfs] : strList(svc.tmpfs, w("tmpfs"));
    for (const [i, v] of (Array.isArray(svc.volumes) ? svc.volumes : svc.volumes === undefined ? [] : [svc.volumes]).entries()) {
      const where = `${w("volumes")}[${i}]`;
      let src: string | undefined;
      let dst: string;
      let mode = "";
      if (typeof v === "string") {
        const parts = v.split(":");
        if (parts.length === 1) dst = parts[0]!;
        else [src, dst, mode = ""] = parts as [string, string, string?];
      } else {
        const m = asMap(v, where, p.file);
        const type = str(m.type) ?? "volume";
        dst = requireStr(m.target, `${where}.target`);
        if (type === "tmpfs") {
          const size = m.tmpfs === undefined ? undefined : str(asMap(m.tmpfs, `${where}.tmpfs`, p.file).size);
          tmpfs.push(size ? `${dst}:size=${size}` : dst);
          continue;
        }
        if (type !== "bind" && type !== "volume") throw new CommandError(`${where}.type: ${type} is not supported (bind, volume, tmpfs)`);
        src = str(m.source);
        if (type === "bind" && !src) throw new CommandError(`${where}.source: a bind mount needs a source`);
        if (type === "bind" && src && !src.startsWith("/") && !src.startsWith(".")) src = `./${src}`;
        mode = m.read_only === true ? "ro" : "";
      }
      if (src !== undefined && (src.startsWith("/") || src.startsWith(".") || src.startsWith("~"))) {
        src = resolve(p.dir, src.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
      } else if (src !== undefined) {
        const vol = res.volumes.get(src);
        if (!vol) throw new CommandError(`${where}: service ${service} uses volume "${src}", which is not declared in the top-level volumes section`);
        src = vol.name;
      }
      volumes.push([src, dst, mode].filter((x) => x !== undefined && x !== "").join(":"));
    }
    // Networks: one per container in tbuild.
    let netNames: string[] = ["default"];
    const aliases: string[] = [service];
    if (svc.networks !== undefined) {
      if (Array.isArray(svc.networks)) netNames = strList(svc.networks, w("networks"));
      else {
        const m = asMap(svc.networks, w("networks"), p.file);
        netNames = Object.keys(m);
        for (const [n, d] of Object.entries(m)) if (d !== null && typeof d === "object") aliases.push(...strList((d as Record<string, unknown>).aliases, `${w("networks")}.${n}.aliases`));
      }
    }
    if (netNames.length !== 1) throw new CommandError(`${w("networks")}: tbuild connects a container to exactly one network (service ${service} names ${netNames.length})`);
    const mode = str(svc.network_mode);
    if (mode !== undefined && !["none", "host", "bridge"].includes(mode)) throw new CommandError(`${w("network_mode")}: ${mode} is not supported (none, host or bridge)`);
    const net = res.networks.get(netNames[0]!);
    if (!net && !mode) throw new CommandError(`${w("networks")}: network "${netNames[0]}" is not declared in the top-level networks section`);
    const ports = (Array.isArray(svc.ports) ? svc.ports : svc.ports === undefined ? [] : [svc.ports]).map((x, i) => {
      if (typeof x === "string" || typeof x === "number") return String(x);
      const m = asMap(x, `${w("ports")}[${i}]`, p.file);
      return `${str(m.host_ip) ? `${str(m.host_ip)}:` : ""}${str(m.published) ?? ""}:${requireStr(m.target, `${w("ports")}[${i}].target`)}${str(m.protocol) ? `/${str(m.protocol)}` : ""}`;
    });
    const dependsOn: DependsOn[] = [];
    if (Array.isArray(svc.depends_on)) for (const d of strList(svc.depends_on, w("depends_on"))) dependsOn.push({ service: d, condition: "service_started" });
    else if (svc.depends_on !== undefined) {
      for (const [d, spec] of Object.entries(asMap(svc.depends_on, w("depends_on"), p.file))) {
        const c = spec === null ? "service_started" : str(asMap(spec, `${w("depends_on")}.${d}`, p.file).condition) ?? "service_started";
        if (!["service_started", "service_healthy", "service_completed_successfully"].includes(c)) throw new CommandError(`${w("depends_on")}.${d}.condition: unknown condition ${c}`);
        dependsOn.push({ service: d, condition: c as DependsOn["condition"] });
      }
    }
    for (const d of dependsOn) if (!(d.service in services)) throw new CommandError(`${w("depends_on")}: service ${service} depends on undefined service ${d.service}`);
    let healthcheck: ServiceRun["healthcheck"];
    if (svc.healthcheck !== undefined) {
      const h = asMap(svc.healthcheck, w("healthcheck"), p.file);
      if (h.disable === true) healthcheck = "disabled";
      else if (h.test !== undefined) {
        const test = typeof h.test === "string" ? ["CMD-SHELL", h.test] : strList(h.test, `${w("healthcheck")}.test`);
        if (test[0] === "NONE") healthcheck = "disabled";
        else {
          healthcheck = {
            test,
            intervalMs: durationMs(h.interval, `${w("healthcheck")}.interval`, 30_000),
            timeoutMs: durationMs(h.timeout, `${w("healthcheck")}.timeout`, 30_000),
            retries: h.retries === undefined ? 3 : Number(h.retries),
            startPeriodMs: durationMs(h.start_period, `${w("healthcheck")}.start_period`, 0),
          };
        }
      }
    }
    const envFiles = svc.env_file === undefined ? [] : (typeof svc.env_file === "string" ? [svc.env_file] : strList(svc.env_file, w("env_file"))).map((f) => resolve(p.dir, f));
    const environment = Object.entries(keyValues(svc.environment, w("environment"), p)).map(([k, v]) => `${k}=${v}`);
    const grace = svc.stop_grace_period === undefined ? undefined : Math.ceil(durationMs(svc.stop_grace_period, w("stop_grace_period"), 10_000) / 1000);
    runs.set(service, {
      service,
      image,
      build: svc.build !== undefined,
      containerName: str(svc.container_name) ?? `${p.name}-${service}-1`,
      ...(svc.command !== undefined ? { command: commandOf(svc.command, w("command"))! } : {}),
      ...(svc.entrypoint !== undefined ? { entrypoint: commandOf(svc.entrypoint, w("entrypoint"))! } : {}),
      environment,
      envFiles,
      ports,
      volumes,
      tmpfs,
      network: mode ?? net!.name,
      aliases,
      restart: str(svc.restart) ?? "no",
      dependsOn,
      ...(healthcheck ? { healthcheck } : {}),
      ...(svc.working_dir !== undefined ? { workingDir: requireStr(svc.working_dir, w("working_dir")) } : {}),
      ...(svc.user !== undefined ? { user: requireStr(svc.user, w("user")) } : {}),
      ...(svc.hostname !== undefined ? { hostname: requireStr(svc.hostname, w("hostname")) } : {}),
      readOnly: svc.read_only === true,
      labels: { ...keyValues(svc.labels, w("labels"), p), "com.docker.compose.project": p.name, "com.docker.compose.service": service },
      ...(grace !== undefined ? { stopTimeout: grace } : {}),
    });
  }
  // depends_on order (Kahn), services in file order otherwise; a cycle is an error.
  const order: ServiceRun[] = [];
  const placed = new Set<string>();
  const want = new Set(only.length ? closure(only, runs) : runs.keys());
  while (order.length < want.size) {
    const next = [...runs.values()].find((r) => want.has(r.service) && !placed.has(r.service) && r.dependsOn.every((d) => placed.has(d.service) || !want.has(d.service)));
    if (!next) throw new CommandError(`services depend on each other in a cycle: ${[...want].filter((s) => !placed.has(s)).join(", ")}`);
    order.push(next);
    placed.add(next.service);
  }
  return order;
}

/** The services named and everything they depend on. */
function closure(names: readonly string[], runs: Map<string, ServiceRun>): string[] {
  const out = new Set<string>();
  const visit = (s: string) => {
    if (out.has(s)) return;
    out.add(s);
    for (const d of runs.get(s)?.dependsOn ?? []) visit(d.service);
  };
  names.forEach(visit);
  return [...out];
}
