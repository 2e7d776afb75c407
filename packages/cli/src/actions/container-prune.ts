// `tbuild container prune -f`: removes every stopped container.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

export default async function containerPruneAction(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<StoreFlags & { force?: boolean }>();
  if (!f.force) throw new UsageError("container prune removes every stopped container; confirm with -f");
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const containers = new rt.ContainerStore(root);
  for (const c of await containers.list()) {
    if (c.state.status === "running" || c.state.status === "restarting") continue;
    await rt.removeContainerForce(root, c, { force: false, volumes: false });
    process.stdout.write(`${c.config.id}\n`);
  }
  return 0;
}
