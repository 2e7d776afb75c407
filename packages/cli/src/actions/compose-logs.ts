// `tbuild compose logs [-f] [SERVICE…]`: the output of the project's containers, each line
// prefixed with its container's name; without -f in time order across containers.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadProjectOf } from "../compose/project.js";
import { prefixedWriter, prefixes, projectContainers } from "../compose/containers.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface LogsFlags extends StoreFlags {
  file?: string;
  projectName?: string;
  envFile?: string;
  follow?: boolean;
}

export default async function composeLogs(cmd: Command): Promise<number> {
  const [services] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<LogsFlags>();
  const project = loadProjectOf(f);
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const containers = new rt.ContainerStore(root);
  const cs = (await projectContainers(rt, root, project.name)).filter((c) => services.length === 0 || services.includes(c.config.labels["com.docker.compose.service"] ?? ""));
  const pre = prefixes(cs.map((c) => c.config.name));
  if (!f.follow) {
    const lines: { at: string; i: number; c: string; l: { log: string; stream: string } }[] = [];
    for (const c of cs) await rt.readLog(c.dir, (l) => void lines.push({ at: l.time, i: lines.length, c: c.config.name, l }));
    const writers = new Map(cs.map((c) => [c.config.name, prefixedWriter(pre.get(c.config.name)!)]));
    lines.sort((a, b) => a.at.localeCompare(b.at) || a.i - b.i).forEach((x) => writers.get(x.c)!(x.l));
    return 0;
  }
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  await Promise.all(cs.map((c) => rt.readLog(c.dir, prefixedWriter(pre.get(c.config.name)!), {
    signal: stop.signal,
    follow: async () => {
      await containers.refresh(c);
      return c.state.status === "running" || c.state.status === "restarting";
    },
  })));
  return 0;
}
