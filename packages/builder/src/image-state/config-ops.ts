// Metadata instructions: each changes the image config and adds a history entry worded
// exactly as BuildKit words it, and none of them adds a layer.
import type { HealthConfig } from "@tbuild/oci";
import { cloneState, withHistory, type ImageState } from "./state.js";
import { goDuration, goQuoteRune, goQuotedSlice, goSetMap, goSlice } from "../util/go-format.js";

type Pair = { key: string; value: string };

/** Sets (or replaces, keeping its position) one variable in a `K=V` list. */
export function setEnvVar(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

export function applyEnv(s: ImageState, pairs: readonly Pair[]): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  let env = cfg.Env ?? [];
  for (const p of pairs) env = setEnvVar(env, p.key, p.value);
  cfg.Env = env;
  return withHistory(n, `ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, true);
}

export function applyLabel(s: ImageState, pairs: readonly Pair[]): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  cfg.Labels = { ...(cfg.Labels ?? {}) };
  for (const p of pairs) cfg.Labels[p.key] = p.value;
  return withHistory(n, `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, true);
}

/** Labels given on the command line: no history entry, as BuildKit does. */
export function applyBuildLabels(s: ImageState, labels: Record<string, string>): ImageState {
  if (Object.keys(labels).length === 0) return s;
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  cfg.Labels = { ...(cfg.Labels ?? {}), ...labels };
  return n;
}

/** `80` → `80/tcp`; protocols lower-cased; ranges kept. */
export function normalizePort(port: string): string {
  const [num, proto] = port.split("/", 2);
  return `${num}/${(proto || "tcp").toLowerCase()}`;
}

export function applyExpose(s: ImageState, ports: readonly string[]): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  const normalized = ports.map(normalizePort);
  cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
  for (const p of normalized) cfg.ExposedPorts[p] = {};
  return withHistory(n, `EXPOSE ${goSetMap(normalized)}`, true);
}

export function applyVolume(s: ImageState, paths: readonly string[]): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  cfg.Volumes = { ...(cfg.Volumes ?? {}) };
  for (const p of paths) cfg.Volumes[p] = {};
  return withHistory(n, `VOLUME ${goSlice(paths)}`, true);
}

export function applyUser(s: ImageState, user: string): ImageState {
  const n = cloneState(s);
  (n.config.config ??= {}).User = user;
  return withHistory(n, `USER ${user}`, true);
}

export function applyStopSignal(s: ImageState, signal: string): ImageState {
  const n = cloneState(s);
  (n.config.config ??= {}).StopSignal = signal;
  return withHistory(n, `STOPSIGNAL ${signal}`, true);
}

export function applyShell(s: ImageState, shell: readonly string[]): ImageState {
  const n = cloneState(s);
  (n.config.config ??= {}).Shell = [...shell];
  return withHistory(n, `SHELL ${goSlice(shell)}`, true);
}

export function applyMaintainer(s: ImageState, name: string): ImageState {
  const n = cloneState(s);
  n.config.author = name;
  return withHistory(n, `MAINTAINER ${name}`, true);
}

export function applyArgHistory(s: ImageState, args: readonly { name: string; value?: string }[]): ImageState {
  const text = args.map((a) => (a.value === undefined ? a.name : `${a.name}=${a.value}`)).join(" ");
  return withHistory(s, `ARG ${text}`, true);
}

export function applyOnbuild(s: ImageState, trigger: string): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  cfg.OnBuild = [...(cfg.OnBuild ?? []), trigger];
  return n; // BuildKit records no history entry for ONBUILD
}

/** CMD: exec form as given; shell form wrapped in the current SHELL. */
export function applyCmd(s: ImageState, argv: readonly string[]): ImageState {
  const n = cloneState(s);
  (n.config.config ??= {}).Cmd = [...argv];
  n.cmdSet = true;
  return withHistory(n, `CMD ${goQuotedSlice(argv)}`, true);
}

/** ENTRYPOINT: also drops a CMD inherited from the base (not one set in this stage). */
export function applyEntrypoint(s: ImageState, argv: readonly string[]): ImageState {
  const n = cloneState(s);
  const cfg = (n.config.config ??= {});
  cfg.Entrypoint = [...argv];
  if (!n.cmdSet) cfg.Cmd = null;
  return withHistory(n, `ENTRYPOINT ${goQuotedSlice(argv)}`, true);
}

export interface HealthcheckSpec {
  test: string[]; // ["NONE"] | ["CMD", …] | ["CMD-SHELL", cmd]
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export function applyHealthcheck(s: ImageState, h: HealthcheckSpec): ImageState {
  const n = cloneState(s);
  const hc: HealthConfig = { Test: [...h.test] };
  if (h.interval) hc.Interval = h.interval;
  if (h.timeout) hc.Timeout = h.timeout;
  if (h.startPeriod) hc.StartPeriod = h.startPeriod;
  if (h.startInterval) hc.StartInterval = h.startInterval;
  if (h.retries) hc.Retries = h.retries;
  (n.config.config ??= {}).Healthcheck = hc;
  // BuildKit formats the struct with %q: durations as quoted strings, retries as a rune.
  const fields = [goQuotedSlice(h.test), `"${goDuration(h.interval ?? 0)}"`, `"${goDuration(h.timeout ?? 0)}"`,
    `"${goDuration(h.startPeriod ?? 0)}"`];
  if (h.startInterval) fields.push(`"${goDuration(h.startInterval)}"`);
  fields.push(goQuoteRune(h.retries ?? 0));
  return withHistory(n, `HEALTHCHECK &{${fields.join(" ")}}`, true);
}
