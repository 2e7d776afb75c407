// `tbuild volume create|ls|inspect|rm|prune`.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { renderTable } from "../format/table.js";
import type { StoreFlags } from "../images/open-store.js";
import { labelsFromFlags, runtimeCommand } from "../containers/runtime-kit.js";
import { forEachRef } from "../containers/each.js";

interface VolumeFlags extends StoreFlags {
  driver?: string;
  opt?: string[];
  label?: string[];
  quiet?: boolean;
  format?: "table" | "json";
  force?: boolean;
  all?: boolean;
}

export default async function volumeAction(cmd: Command): Promise<number> {
  const { f, rt, root, layout, args } = await runtimeCommand<VolumeFlags>(cmd);
  switch (cmd.name()) {
    case "create": {
      const v = await rt.createVolume(layout, args[0] as string | undefined, { labels: labelsFromFlags(f.label), ...(f.driver ? { driver: f.driver } : {}), options: labelsFromFlags(f.opt, "--opt") });
      process.stdout.write(`${v.Name}\n`);
      return 0;
    }
    case "ls": {
      const vols = await rt.listVolumes(layout);
      if (f.quiet) vols.forEach((v) => process.stdout.write(`${v.Name}\n`));
      else if (f.format === "json") vols.forEach((v) => process.stdout.write(`${JSON.stringify({ Driver: v.Driver, Name: v.Name, Mountpoint: v.Mountpoint, Labels: v.Labels })}\n`));
      else process.stdout.write(renderTable(["DRIVER", "VOLUME NAME"], vols.map((v) => [v.Driver, v.Name])));
      return 0;
    }
    case "inspect": {
      const out = [];
      for (const name of args[0] as string[]) {
        const v = await rt.getVolume(layout, name);
        if (!v) throw new rt.RuntimeError(`no such volume: ${name}`);
        out.push(v);
      }
      process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      return 0;
    }
    case "rm":
      return forEachRef(args[0] as string[], async (name) => {
        if (!(await rt.getVolume(layout, name)) && f.force) return false;
        await rt.removeVolume(layout, name, await rt.volumeUsers(root, name));
      });
    case "prune": {
      if (!f.force) throw new UsageError("volume prune removes every volume no container uses; confirm with -f");
      for (const v of await rt.listVolumes(layout)) {
        if (!v.Anonymous && !f.all) continue;
        if ((await rt.volumeUsers(root, v.Name)).length > 0) continue;
        await rt.removeVolume(layout, v.Name, []);
        process.stdout.write(`${v.Name}\n`);
      }
      return 0;
    }
  }
  throw new Error(`unknown volume command ${cmd.name()}`);
}
