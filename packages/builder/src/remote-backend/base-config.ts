// Where the remote backend reads a base image's config (dockerfile2llb asks the daemon
// through the gateway's ResolveImageConfig; a plain Control.Solve has no such call). With
// Docker the daemon's own image store is asked first (GET /images/{name}/json and /history),
// as Docker's BuildKit prefers a local image; otherwise the registry, with tbuild's client.
import http from "node:http";
import { RegistryClient, type ImageConfig, type Platform } from "@tbuild/oci";
import type { BaseResolver } from "./convert/types.js";

export function registryResolver(opts: { insecureRegistries?: string[] } = {}): BaseResolver {
  return async (ref, platform) => {
    const hosts = Object.fromEntries((opts.insecureRegistries ?? []).map((h) => [h, { insecure: true }]));
    const client = new RegistryClient({ hosts });
    try {
      const img = await client.resolve(ref, platform);
      const bytes = await client.fetchSmallBlob(img.reference, img.manifest.config);
      return JSON.parse(bytes.toString("utf8")) as ImageConfig;
    } finally {
      await (client as { close?: () => Promise<void> }).close?.();
    }
  };
}

function getJSON(socketPath: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path, headers: { Host: "docker" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch (e) {
            reject(e);
          }
        });
      })
      .on("error", (e) => reject(new Error(`cannot reach Docker at ${socketPath}: ${e.message} (is dockerd running?)`, { cause: e })));
  });
}

interface DockerInspect {
  Os: string;
  Architecture: string;
  Variant?: string;
  Author?: string;
  Config?: Record<string, unknown>;
  RootFS?: { Layers?: string[] };
}
interface DockerHistory {
  Created: number;
  CreatedBy: string;
  Comment: string;
  Size: number;
}

/** The fields of Docker's container config that belong to an image config. */
const IMAGE_FIELDS = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "Shell", "Healthcheck", "OnBuild", "ArgsEscaped"];

export function dockerResolver(socketPath: string, fallback: BaseResolver): BaseResolver {
  return async (ref, platform) => {
    const name = encodeURIComponent(ref);
    const inspect = await getJSON(socketPath, `/images/${name}/json`);
    if (inspect.status === 404) return fallback(ref, platform);
    if (inspect.status !== 200) throw new Error(`Docker could not inspect ${ref}: ${JSON.stringify(inspect.body)}`);
    const img = inspect.body as DockerInspect;
    const hist = await getJSON(socketPath, `/images/${name}/history`);
    const layers = img.RootFS?.Layers ?? [];
    return imageConfigOf(img, hist.status === 200 ? (hist.body as DockerHistory[]) : [], layers, platform);
  };
}

function imageConfigOf(img: DockerInspect, history: DockerHistory[], layers: string[], platform: Platform): ImageConfig {
  const config: Record<string, unknown> = {};
  for (const f of IMAGE_FIELDS) {
    const v = img.Config?.[f];
    if (v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0 && f !== "Env")) config[f] = v;
  }
  // Docker's history API lists newest first and says nothing of empty layers; an entry of
  // size 0 is taken as empty while there are more entries than layers.
  const entries = [...history].reverse();
  let nonEmpty = entries.length;
  const out = entries.map((h) => {
    const empty = h.Size === 0 && nonEmpty > layers.length;
    if (empty) nonEmpty--;
    return { created: new Date(h.Created * 1000).toISOString(), created_by: h.CreatedBy, ...(h.Comment ? { comment: h.Comment } : {}), ...(empty ? { empty_layer: true } : {}) };
  });
  return {
    architecture: img.Architecture || platform.architecture,
    os: img.Os || platform.os,
    ...(img.Variant ? { variant: img.Variant } : {}),
    ...(img.Author ? { author: img.Author } : {}),
    config: config as ImageConfig["config"],
    rootfs: { type: "layers", diff_ids: layers as ImageConfig["rootfs"]["diff_ids"] },
    history: out,
  };
}
