// `tbuild start C…`: starts stopped containers under a monitor each.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";
import { eachContainer } from "../containers/each.js";

export default async function startAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const rt = await loadRuntime();
  const root = rootOf(rt, cmd.optsWithGlobals<StoreFlags>());
  return eachContainer(new rt.ContainerStore(root), refs, (c) => rt.startDetached(root, c));
}
