// `tbuild network create|ls|inspect|rm`.

import type { Command } from "commander";
import { renderTable } from "../format/table.js";
import type { StoreFlags } from "../images/open-store.js";
import { labelsFromFlags, runtimeCommand } from "../containers/runtime-kit.js";
import { forEachRef } from "../containers/each.js";

interface NetworkFlags extends StoreFlags {
  driver: string;
  subnet?: string;
  gateway?: string;
  opt?: string[];
  internal?: boolean;
  label?: string[];
  quiet?: boolean;
  format?: "table" | "json";
}

export default async function networkAction(cmd: Command): Promise<number> {
  const { f, rt, root, layout, args } = await runtimeCommand<NetworkFlags>(cmd);
  switch (cmd.name()) {
    case "create": {
      const n = await rt.createNetwork(layout, {
        name: args[0] as string,
        driver: f.driver,
        ...(f.subnet ? { subnet: f.subnet } : {}),
        ...(f.gateway ? { gateway: f.gateway } : {}),
        options: labelsFromFlags(f.opt, "--opt"),
        labels: labelsFromFlags(f.label),
        internal: f.internal === true,
      });
      process.stdout.write(`${n.Id}\n`);
      return 0;
    }
    case "ls": {
      const nets = await rt.listNetworks(layout);
      if (f.quiet) nets.forEach((n) => process.stdout.write(`${n.Name}\n`));
      else if (f.format === "json") nets.forEach((n) => process.stdout.write(`${JSON.stringify({ ID: n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope, Subnet: n.Subnet })}\n`));
      else process.stdout.write(renderTable(["NETWORK ID", "NAME", "DRIVER", "SCOPE", "SUBNET"], nets.map((n) => [n.Id.slice(0, 12), n.Name, n.Driver, n.Scope, n.Subnet])));
      return 0;
    }
    case "inspect": {
      const out = [];
      for (const name of args[0] as string[]) {
        const n = await rt.getNetwork(layout, name);
        if (!n) throw new rt.RuntimeError(`no such network: ${name}`);
        out.push({ ...n, IPAM: { Driver: "default", Config: n.Subnet ? [{ Subnet: n.Subnet, Gateway: n.Gateway }] : [] } });
      }
      process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      return 0;
    }
    case "rm":
      return forEachRef(args[0] as string[], async (name) => {
        const n = await rt.getNetwork(layout, name);
        if (!n) throw new rt.RuntimeError(`no such network: ${name}`);
        await rt.removeNetwork(layout, n, await rt.networkUsers(root, n.Name));
      });
  }
  throw new Error(`unknown network command ${cmd.name()}`);
}
