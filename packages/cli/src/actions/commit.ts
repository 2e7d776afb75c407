// `tbuild commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE] CONTAINER REPO[:TAG]`.

import type { Command } from "commander";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface CommitFlags extends StoreFlags {
  author?: string;
  message?: string;
  change?: string[];
}

export default async function commitAction(cmd: Command): Promise<number> {
  const [ref, name] = cmd.processedArgs as [string, string];
  const f = cmd.optsWithGlobals<CommitFlags>();
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const c = await new rt.ContainerStore(root).find(ref);
  const r = await rt.commitContainer(root, c, { ref: name, ...(f.author ? { author: f.author } : {}), ...(f.message ? { message: f.message } : {}), ...(f.change ? { changes: f.change } : {}) });
  process.stdout.write(`${r.imageId}\n`);
  return 0;
}
