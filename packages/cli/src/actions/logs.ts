// `tbuild logs [-f] [-n N] [-t] CONTAINER`: stdout to stdout, stderr to stderr, in order.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import type { StoreFlags } from "../images/open-store.js";
import { loadRuntime, rootOf } from "../containers/runtime-kit.js";

interface LogsFlags extends StoreFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
}

export default async function logsAction(cmd: Command): Promise<number> {
  const [ref] = cmd.processedArgs as [string];
  const f = cmd.optsWithGlobals<LogsFlags>();
  const tail = f.tail === undefined || f.tail === "all" ? undefined : Number(f.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`invalid --tail ${f.tail}: expected a number of lines or "all"`);
  const rt = await loadRuntime();
  const containers = new rt.ContainerStore(rootOf(rt, f));
  const c = await containers.find(ref);
  const stop = new AbortController();
  if (f.follow) process.once("SIGINT", () => stop.abort());
  await rt.readLog(c.dir, (l) => (l.stream === "stderr" ? process.stderr : process.stdout).write(f.timestamps ? `${l.time} ${l.log}` : l.log), {
    ...(tail !== undefined ? { tail } : {}),
    signal: stop.signal,
    ...(f.follow
      ? {
          follow: async () => {
            await containers.refresh(c);
            return c.state.status === "running" || c.state.status === "restarting";
          },
        }
      : {}),
  });
  return 0;
}
