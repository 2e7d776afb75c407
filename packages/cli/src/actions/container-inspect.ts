// `tbuild container inspect C…` (and `tbuild inspect` of a name that is no image): Docker's shape.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

export default async function containerInspectAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  process.stdout.write(`${JSON.stringify(await inspectContainers(cmd.optsWithGlobals<StoreFlags>(), refs), null, 4)}\n`);
  return 0;
}

export async function inspectContainers(flags: StoreFlags, refs: string[]): Promise<unknown[]> {
  const rt = await loadRuntime();
  const containers = new rt.ContainerStore(rootOf(rt, flags));
  const out: unknown[] = [];
  for (const ref of refs) out.push(rt.inspectContainer(await containers.find(ref)));
  return out;
}
