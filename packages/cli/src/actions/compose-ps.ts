// `tbuild compose ps [-a]`: the project's containers.

import type { Command } from "commander";
import { humanDuration, timeAgo } from "../format/human.js";
import { renderTable } from "../format/table.js";
import type { StoreFlags } from "../images/open-store.js";
import { loadProjectOf } from "../compose/project.js";
import { projectContainers } from "../compose/containers.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface PsFlags extends StoreFlags {
  file?: string;
  projectName?: string;
  envFile?: string;
  all?: boolean;
  quiet?: boolean;
}

export default async function composePs(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<PsFlags>();
  const project = loadProjectOf(f);
  const rt = await loadRuntime();
  const cs = (await projectContainers(rt, rootOf(rt, f), project.name)).filter((c) => f.all || c.state.status === "running" || c.state.status === "restarting");
  if (f.quiet) {
    for (const c of cs) process.stdout.write(`${c.config.id}\n`);
    return 0;
  }
  process.stdout.write(renderTable(["NAME", "IMAGE", "SERVICE", "STATUS", "PORTS"], cs.map((c) => {
    const s = c.state;
    const health = s.health && s.status === "running" ? ` (${s.health.status})` : "";
    const status = s.status === "running" ? `Up ${humanDuration(Math.max(0, Date.now() - Date.parse(s.startedAt)))}${health}` : s.status === "exited" ? `Exited (${s.exitCode}) ${timeAgo(s.finishedAt)}` : s.status;
    return [c.config.name, c.config.image.ref, c.config.labels["com.docker.compose.service"] ?? "", status, c.config.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(", ")];
  })));
  return 0;
}
