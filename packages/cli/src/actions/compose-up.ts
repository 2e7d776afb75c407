// `tbuild compose up [-d] [--build] [SERVICE…]`: builds what needs building, makes the
// project's networks and volumes, then creates and starts each service's container in
// depends_on order, waiting for each dependency's condition. An unchanged running container
// is left alone; a changed one is recreated. Without -d it prints the containers' output
// with compose's prefixes until they all exit, or until Ctrl-C, which stops them.

import type { Command } from "commander";
import { SilentFailure } from "../errors.js";
import { normalizeName } from "../images/image-ref.js";
import { withStore, type StoreFlags } from "../images/open-store.js";
import { loadProjectOf } from "../compose/project.js";
import { planServiceRuns, projectResources } from "../compose/services.js";
import { prefixedWriter, prefixes, serviceRequest } from "../compose/containers.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";
import type { ProgressMode } from "../progress/renderer.js";
import { buildComposeServices } from "./compose-build.js";

interface UpFlags extends StoreFlags {
  file?: string;
  projectName?: string;
  envFile?: string;
  detach?: boolean;
  build?: boolean;
  progress: ProgressMode;
  quiet?: boolean;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

export default async function composeUp(cmd: Command): Promise<number> {
  const [only] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<UpFlags>();
  const project = loadProjectOf(f);
  const res = projectResources(project);
  const runs = planServiceRuns(project, res, only);
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const layout = new rt.RuntimeLayout(root);

  // Build: every service with a build section under --build, else those whose image is missing.
  const wanted = new Set(runs.filter((r) => r.build).map((r) => r.service));
  const missing = await withStore(f, async (store) => {
    const out = new Set<string>();
    for (const r of runs) if (r.build && (f.build || !(await store.getImage(normalizeName(r.image))))) out.add(r.service);
    return out;
  });
  const builds = project.builds.filter((b) => wanted.has(b.service) && missing.has(b.service));
  if (builds.length) await buildComposeServices({ ...project, builds }, { cache: true, progress: f.progress, ...(f.quiet ? { quiet: true } : {}), ...(f.root ? { root: f.root } : {}) });

  for (const [key, n] of res.networks) {
    if (!runs.some((r) => r.network === n.name)) continue;
    if (await rt.getNetwork(layout, n.name)) continue;
    if (!n.create) throw new rt.RuntimeError(`network ${n.name} is declared as external, but it could not be found`);
    await rt.createNetwork(layout, { name: n.name, driver: n.driver ?? "bridge", ...(n.subnet ? { subnet: n.subnet } : {}), options: n.options, labels: { "com.docker.compose.project": project.name, "com.docker.compose.network": key }, internal: n.internal });
    say(`Network ${n.name}  Created`);
  }
  for (const [key, v] of res.volumes) {
    if (await rt.getVolume(layout, v.name)) continue;
    if (!v.create) throw new rt.RuntimeError(`volume ${v.name} is declared as external, but it could not be found`);
    await rt.createVolume(layout, v.name, { labels: { "com.docker.compose.project": project.name, "com.docker.compose.volume": key } });
    say(`Volume ${v.name}  Created`);
  }

  const containers = new rt.ContainerStore(root);
  const byService = new Map<string, Awaited<ReturnType<typeof containers.find>>>();
  await withStore(f, async (store) => {
    for (const r of runs) {
      for (const d of r.dependsOn) {
        const dep = byService.get(d.service);
        if (dep) await rt.waitForCondition(root, dep, d.condition);
      }
      const { req, hash } = await serviceRequest(rt, store, project, r);
      let c = await containers.find(r.containerName).catch(() => undefined);
      if (c && c.config.labels["com.docker.compose.config-hash"] !== hash) {
        await rt.stopContainer(root, c);
        await rt.removeContainerForce(root, c, { force: true, volumes: true });
        say(`Container ${r.containerName}  Recreated`);
        c = undefined;
      }
      if (!c) c = (await rt.createContainer(root, req)).container;
      const running = c.state.status === "running" || c.state.status === "restarting";
      if (!running) await rt.startDetached(root, c);
      say(`Container ${r.containerName}  ${running ? "Running" : "Started"}`);
      byService.set(r.service, c);
    }
  });
  if (f.detach) return 0;

  // Attached: every container's output until all have exited, or Ctrl-C (which stops them).
  const stop = new AbortController();
  const onInt = () => stop.abort();
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onInt);
  const all = [...byService.values()];
  const pre = prefixes(all.map((c) => c.config.name));
  try {
    await Promise.all(all.map((c) => rt.readLog(c.dir, prefixedWriter(pre.get(c.config.name)!), {
      signal: stop.signal,
      follow: async () => {
        await containers.refresh(c);
        return c.state.status === "running" || c.state.status === "restarting";
      },
    })));
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onInt);
  }
  if (stop.signal.aborted) {
    say("Gracefully stopping... (press Ctrl+C again to force)");
    for (const c of all.reverse()) await rt.stopContainer(root, c);
    throw new SilentFailure(130);
  }
  return 0;
}
