// The runtime side of compose: a service's container request (from services.ts), the
// project's containers (by the com.docker.compose.project label), and their output with
// compose's "service-1  | " prefixes.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Container, CreateRequest } from "@tbuild/runtime";
import type { Store } from "@tbuild/cache";
import { CommandError } from "../errors.js";
import { imageToRun } from "../images/image-to-run.js";
import { resolveImage } from "../images/stored-image.js";
import type { Runtime } from "../containers/runtime-kit.js";
import { parseDotEnv } from "./dotenv.js";
import type { ComposeProject } from "./project.js";
import type { ServiceRun } from "./services.js";

/** A compose key's value parsed by the runtime: its error names the service. */
function inService<T>(r: ServiceRun, key: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new CommandError(`services.${r.service}.${key}: ${(e as Error).message}`);
  }
}

/** The container request of a service, and the hash compose keeps to know when to recreate it. */
export async function serviceRequest(rt: Runtime, store: Store, p: ComposeProject, r: ServiceRun): Promise<{ req: CreateRequest; hash: string }> {
  let image;
  try {
    // A built service's image is what its build made; any other is pulled when missing, as compose does.
    image = r.build ? await resolveImage(store, r.image) : await imageToRun(store, r.image, "missing", { say: (line) => process.stderr.write(`${line}\n`) });
  } catch (e) {
    if (!r.build) throw new CommandError(`service ${r.service}: ${(e as Error).message}`);
    throw new CommandError(`service ${r.service}: image ${r.image} is not in the store (the build did not make it)`);
  }
  const env: string[] = [];
  for (const f of r.envFiles) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new CommandError(`services.${r.service}.env_file: cannot read ${f}: ${(e as Error).message}`);
    }
    for (const [k, v] of parseDotEnv(text, p.lookup, f)) env.push(`${k}=${v}`);
  }
  env.push(...r.environment);
  const req: CreateRequest = {
    image: { ref: r.image, id: image.configDigest, manifest: image.manifestDigest, layers: image.manifest.layers.map((l, i) => ({ blob: l.digest, diffID: image.config.rootfs.diff_ids[i]! })) },
    imageConfig: image.config.config ?? {},
    name: r.containerName,
    cmd: r.command ?? [],
    ...(r.entrypoint !== undefined ? { entrypoint: r.entrypoint } : {}),
    env,
    ...(r.workingDir !== undefined ? { workdir: r.workingDir } : {}),
    ...(r.user !== undefined ? { user: r.user } : {}),
    ...(r.hostname !== undefined ? { hostname: r.hostname } : {}),
    tty: false,
    openStdin: false,
    autoRemove: false,
    readOnly: r.readOnly,
    mounts: [
      ...r.volumes.map((v) => inService(r, "volumes", () => rt.parseVolumeFlag(v, p.dir))),
      ...r.tmpfs.map((v) => inService(r, "tmpfs", () => rt.parseTmpfsFlag(v))),
    ],
    network: r.network,
    networkAliases: r.aliases,
    ports: r.ports.map((v) => inService(r, "ports", () => rt.parsePortFlag(v))),
    restart: inService(r, "restart", () => rt.parseRestart(r.restart)),
    labels: r.labels,
    ...(r.stopTimeout !== undefined ? { stopTimeout: r.stopTimeout } : {}),
    ...(r.healthcheck === "disabled" ? { healthcheck: null } : r.healthcheck ? { healthcheck: r.healthcheck } : {}),
  };
  const hash = createHash("sha256").update(JSON.stringify({ ...req, labels: r.labels })).digest("hex");
  req.labels = { ...r.labels, "com.docker.compose.config-hash": hash };
  return { req, hash };
}

/** The project's containers (any state), in creation order. */
export async function projectContainers(rt: Runtime, root: string, project: string): Promise<Container[]> {
  const all = await new rt.ContainerStore(root).list();
  return all.filter((c) => c.config.labels["com.docker.compose.project"] === project).reverse();
}

/** Prints a container's log chunks line by line with compose's prefix. */
export function prefixedWriter(prefix: string): (l: { log: string; stream: string }) => void {
  const pending: Record<string, string> = { stdout: "", stderr: "" };
  return (l) => {
    const text = pending[l.stream] + l.log;
    const lines = text.split("\n");
    pending[l.stream] = lines.pop()!;
    for (const line of lines) (l.stream === "stderr" ? process.stderr : process.stdout).write(`${prefix}| ${line}\n`);
  };
}

/** Pads the names of a set of containers to one width, as compose's log prefixes. */
export function prefixes(names: string[]): Map<string, string> {
  const w = Math.max(0, ...names.map((n) => n.length));
  return new Map(names.map((n) => [n, `${n.padEnd(w)}  `]));
}
