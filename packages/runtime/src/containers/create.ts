// `create`: a container from an image and Docker's run options. The image's config gives
// the defaults (Entrypoint, Cmd, Env, User, WorkingDir, StopSignal, Volumes, Healthcheck);
// the options override them with Docker's rules (an --entrypoint drops the image's Cmd).
import { existsSync, mkdirSync, statSync } from "node:fs";
import type { ImageConfig } from "@tbuild/oci";
import { RuntimeError } from "../errors.js";
import { checkNetworkChoice } from "../networks/network-store.js";
import { mergeEnv, type MountRequest } from "../options.js";
import { createVolume } from "../volumes/volume-store.js";
import { ContainerStore, type Container } from "./container-store.js";
import type { Healthcheck, ImageRef, MountConfig, PortBinding, RestartPolicy } from "./types.js";

export interface CreateRequest {
  image: ImageRef;
  imageConfig: NonNullable<ImageConfig["config"]>;
  name?: string;
  /** The arguments after the image (replace the image's Cmd when not empty). */
  cmd: string[];
  /** --entrypoint (one word) or compose's entrypoint: undefined keeps the image's; [] clears it. */
  entrypoint?: string[];
  /** Resolved K=V entries (--env-file then -e, in order). */
  env: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty: boolean;
  openStdin: boolean;
  autoRemove: boolean;
  readOnly: boolean;
  mounts: MountRequest[];
  network: string;
  networkAliases?: string[];
  ports: PortBinding[];
  restart: RestartPolicy;
  labels?: Record<string, string>;
  stopTimeout?: number;
  /** Replaces the image's HEALTHCHECK; null disables it. */
  healthcheck?: Healthcheck | null;
}

/** Docker's healthcheck from an image config (durations in nanoseconds). */
function imageHealthcheck(h: unknown): Healthcheck | undefined {
  const hc = h as { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number } | undefined;
  if (!hc?.Test || hc.Test.length === 0 || hc.Test[0] === "NONE") return undefined;
  const ms = (ns: number | undefined, d: number) => (ns && ns > 0 ? Math.round(ns / 1e6) : d);
  return { test: hc.Test, intervalMs: ms(hc.Interval, 30_000), timeoutMs: ms(hc.Timeout, 30_000), retries: hc.Retries && hc.Retries > 0 ? hc.Retries : 3, startPeriodMs: ms(hc.StartPeriod, 0) };
}

export async function createContainer(root: string, req: CreateRequest): Promise<{ container: Container; warnings: string[] }> {
  const store = new ContainerStore(root);
  const L = store.layout;
  const ic = req.imageConfig;
  const warnings: string[] = [];
  if (req.autoRemove && req.restart.name !== "no") throw new RuntimeError("conflicting options: --restart and --rm (a container that removes itself cannot be restarted)");
  const entrypoint = req.entrypoint === undefined ? [...(ic.Entrypoint ?? [])] : [...req.entrypoint];
  const cmd = req.cmd.length > 0 ? req.cmd : req.entrypoint === undefined ? [...(ic.Cmd ?? [])] : [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new RuntimeError(`no command specified: the image ${req.image.ref} has no Entrypoint or Cmd; give one after the image name`);
  await checkNetworkChoice(L, req.network);
  let ports = req.ports;
  if (ports.length > 0 && req.network === "host") {
    warnings.push("published ports are discarded when using host network mode");
    ports = [];
  }
  if (ports.length > 0 && req.network === "none") throw new RuntimeError("conflicting options: port publishing and --network none (a container without a network cannot publish ports)");

  // Mounts: the user's, then an anonymous volume for each image VOLUME not already covered.
  const mounts: MountConfig[] = [];
  const seen = new Set<string>();
  for (const m of req.mounts) {
    if (seen.has(m.target)) throw new RuntimeError(`duplicate mount point: ${m.target}`);
    seen.add(m.target);
    if (m.type === "bind") {
      if (!existsSync(m.source)) {
        if (!m.create) throw new RuntimeError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
        mkdirSync(m.source, { recursive: true });
      }
      statSync(m.source);
      mounts.push({ type: "bind", source: m.source, target: m.target, readonly: m.readonly });
    } else if (m.type === "volume") {
      const vol = await createVolume(L, m.name === "" ? undefined : m.name);
      mounts.push({ type: "volume", name: vol.Name, target: m.target, readonly: m.readonly, anonymous: m.name === "", nocopy: m.nocopy });
    } else mounts.push(m);
  }
  for (const target of Object.keys(ic.Volumes ?? {}).sort()) {
    if (seen.has(target)) continue;
    const vol = await createVolume(L, undefined);
    mounts.push({ type: "volume", name: vol.Name, target, readonly: false, anonymous: true, nocopy: false });
  }
  const healthcheck = req.healthcheck === null ? undefined : req.healthcheck ?? imageHealthcheck((ic as { Healthcheck?: unknown }).Healthcheck);
  const container = await store.create(req.name, (id) => ({
    image: req.image,
    args,
    entrypoint,
    cmd,
    env: mergeEnv(ic.Env ?? [], req.env),
    workingDir: req.workdir ?? (ic.WorkingDir || "/"),
    user: req.user ?? ic.User ?? "",
    hostname: req.hostname ?? id.slice(0, 12),
    tty: req.tty,
    openStdin: req.openStdin,
    autoRemove: req.autoRemove,
    readOnly: req.readOnly,
    mounts,
    network: req.network,
    networkAliases: req.networkAliases ?? [],
    ports,
    restart: req.restart,
    stopSignal: ic.StopSignal || "SIGTERM",
    stopTimeout: req.stopTimeout ?? 10,
    labels: { ...(ic.Labels ?? {}), ...(req.labels ?? {}) },
    ...(healthcheck ? { healthcheck } : {}),
  }));
  return { container, warnings };
}
