// `tbuild ps [-a] [-q]`: containers with Docker's columns.

import type { Command } from "commander";
import { humanDuration, timeAgo } from "../format/human.js";
import { renderTable } from "../format/table.js";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface PsFlags extends StoreFlags {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  format: "table" | "json";
}

export default async function psAction(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<PsFlags>();
  const rt = await loadRuntime();
  const all = await new rt.ContainerStore(rootOf(rt, f)).list();
  const shown = f.all ? all : all.filter((c) => c.state.status === "running" || c.state.status === "restarting");
  const id = (s: string) => (f.trunc ? s.slice(0, 12) : s);
  if (f.quiet) {
    for (const c of shown) process.stdout.write(`${id(c.config.id)}\n`);
    return 0;
  }
  const rows = shown.map((c) => {
    const s = c.state;
    const since = (iso: string) => humanDuration(Math.max(0, Date.now() - Date.parse(iso)));
    const health = s.health && s.status === "running" ? ` (${s.health.status === "starting" ? "health: starting" : s.health.status})` : "";
    const status =
      s.status === "running" ? `Up ${since(s.startedAt)}${health}`
      : s.status === "restarting" ? `Restarting (${s.exitCode}) ${timeAgo(s.finishedAt)}`
      : s.status === "exited" ? `Exited (${s.exitCode}) ${timeAgo(s.finishedAt)}`
      : "Created";
    const command = JSON.stringify(c.config.args.join(" "));
    const ports = c.config.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(", ");
    return {
      ID: id(c.config.id),
      Image: c.config.image.ref,
      Command: f.trunc && command.length > 22 ? `${command.slice(0, 20)}…"` : command,
      CreatedAt: c.config.created,
      RunningFor: timeAgo(c.config.created),
      Status: status,
      State: s.status,
      Ports: ports,
      Names: c.config.name,
    };
  });
  if (f.format === "json") {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  process.stdout.write(renderTable(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names])));
  return 0;
}
