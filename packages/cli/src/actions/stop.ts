// `tbuild stop [-t S] [-s SIG] C…` and `tbuild kill [-s SIG] C…`: each container's name is
// printed as given once it is handled; the first failure is reported after the others.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";
import { eachContainer } from "../containers/each.js";

interface StopFlags extends StoreFlags {
  time?: string;
  signal?: string;
}

export default async function stopAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<StopFlags>();
  const time = f.time === undefined ? undefined : Number(f.time);
  if (time !== undefined && !Number.isInteger(time)) throw new UsageError(`invalid --time ${f.time}: expected whole seconds`);
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const containers = new rt.ContainerStore(root);
  return eachContainer(containers, refs, (c) =>
    cmd.name() === "kill" ? rt.killContainer(root, c, f.signal) : rt.stopContainer(root, c, time, f.signal));
}
