// `tbuild rm [-f] [-v] C…`.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";
import { eachContainer } from "../containers/each.js";

interface RmFlags extends StoreFlags {
  force?: boolean;
  volumes?: boolean;
}

export default async function rmAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<RmFlags>();
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  return eachContainer(new rt.ContainerStore(root), refs, (c) => rt.removeContainerForce(root, c, { force: f.force === true, volumes: f.volumes === true }));
}
