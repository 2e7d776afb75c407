// cgroupMounts() lists the host's cgroup hierarchies (step-cgroup.ts makes its cgroups there too).
// runc puts each container in a cgroup (linux.cgroupsPath, one directory per hierarchy on
// a cgroup v1 or hybrid host) and removes it when `runc run` ends normally. When a step is
// aborted or tbuild is killed, runc dies with the sandbox and the empty directories stay;
// these helpers remove them. An empty cgroup directory is removed with rmdir(2); one that
// still has processes refuses (EBUSY), so removal can never disturb a running container.
import { readFileSync } from "node:fs";
import { rmdir } from "node:fs/promises";

/** The parent of our containers' cgroups, below each hierarchy's root. */
export const CGROUP_PARENT = "tbuild";

/** A mounted cgroup hierarchy: a v1 controller tree (superOptions names its controllers) or the v2 unified tree. */
export interface CgroupMount {
  mountPoint: string;
  fstype: "cgroup" | "cgroup2";
  superOptions: string[];
}

let mounts: CgroupMount[] | undefined;

/** The cgroup hierarchies this host mounts (read once from /proc/self/mountinfo). */
export function cgroupMounts(): CgroupMount[] {
  if (mounts) return mounts;
  const out: CgroupMount[] = [];
  try {
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
      const sep = line.indexOf(" - ");
      if (sep < 0) continue;
      const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
      if (fstype === "cgroup" || fstype === "cgroup2") {
        out.push({ mountPoint: line.split(" ")[4]!.replace(/\\040/g, " "), fstype, superOptions: superOpts.split(",") });
      }
    }
  } catch {
    // no /proc: no cgroups to use or clean
  }
  mounts = out;
  return out;
}

async function rmdirRetry(p: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await rmdir(p);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") return;
      // Processes of a killed container may take a moment to leave the cgroup.
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Removes the cgroup directories of container `id` (after its processes are gone). */
export async function removeContainerCgroups(id: string): Promise<void> {
  await Promise.all(cgroupMounts().map((m) => rmdirRetry(`${m.mountPoint}/${CGROUP_PARENT}/${id}`)));
}
