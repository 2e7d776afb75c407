// `tbuild exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND…`: its exit status is ours.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { StoreFlags } from "../images/open-store.js";
import { attached, envFromFlags, loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface ExecFlags extends StoreFlags {
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
}

export default async function execAction(cmd: Command): Promise<number> {
  const [ref, args] = cmd.processedArgs as [string, string[]];
  const f = cmd.optsWithGlobals<ExecFlags>();
  if (f.tty && f.interactive && !process.stdin.isTTY) throw new UsageError("the input device is not a TTY; drop -t, or run from a terminal");
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  const c = await new rt.ContainerStore(root).find(ref);
  return attached(f.tty === true && f.interactive === true, (onHelper) =>
    rt.execInContainer(root, c, {
      args,
      env: envFromFlags(rt, f.envFile, f.env),
      ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
      ...(f.user !== undefined ? { user: f.user } : {}),
      tty: f.tty === true,
      stdin: f.interactive === true,
      onHelper,
    }));
}
