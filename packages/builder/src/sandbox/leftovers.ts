// Leftovers of tbuild processes that were killed (SIGKILL, power loss) in the middle of a
// step: their step dirs under the runtime root, runc state dirs and empty cgroups. Names
// carry the owner's pid; anything whose owner is gone is removed when an executor starts.
// (Mounts never need this: they die with the step's mount namespace.)
import { readdir, rm, rmdir } from "node:fs/promises";
import { processExists as alive } from "@tbuild/cache";
import { CGROUP_PARENT, cgroupMounts } from "./runc-cgroups.js";

/** The owner pid encoded as `<prefix><pid>-…`, or undefined. */
export function ownerPid(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Removes entries `<dir>/<prefix><pid>-…` of dead pids with `remove` (default: rm -rf). */
export async function sweepDead(dir: string, prefix: string, remove: (p: string) => Promise<void> = rmTree): Promise<void> {
  for (const name of await namesIn(dir)) {
    const pid = ownerPid(name, prefix);
    if (pid === undefined || pid === process.pid || alive(pid)) continue;
    await remove(`${dir}/${name}`).catch(() => {});
  }
}

function rmTree(p: string): Promise<void> {
  return rm(p, { recursive: true, force: true });
}

/** Best-effort cleanup of dead processes' step dirs, probes, runc states and container cgroups. */
export async function sweepLeftovers(runtimeRoot: string): Promise<void> {
  await sweepDead(runtimeRoot, "s-");
  await sweepDead(runtimeRoot, "probe-");
  await sweepDead(`${runtimeRoot}/runc`, "tb-");
  for (const m of cgroupMounts()) await sweepDead(`${m.mountPoint}/${CGROUP_PARENT}`, "tb-", (p) => rmdir(p));
}
