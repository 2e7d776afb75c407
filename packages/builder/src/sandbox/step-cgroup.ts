// A cgroup per RUN step for --memory, --memory-swap and --pids-limit (the unshare
// executor; runc makes its own from the spec). On a cgroup v2 host (or a hybrid one whose
// unified tree has the controllers) one directory; on v1 one per controller. tbuild-enter
// writes its pid into every cgroup.procs before it forks, so the whole step is inside.
import { readFileSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { readFile, rmdir } from "node:fs/promises";
import { SandboxError } from "./errors.js";
import { memoryPlusSwap, type RunLimits } from "./limits.js";
import { CGROUP_PARENT, cgroupMounts } from "./runc-cgroups.js";

interface Hierarchies {
  /** cgroup2 mount whose root offers memory and pids, if any. */
  unified?: string;
  /** v1 mounts by controller. */
  v1: Map<string, string>;
}

let cached: Hierarchies | undefined;

function hierarchies(): Hierarchies {
  if (cached) return cached;
  const h: Hierarchies = { v1: new Map() };
  for (const m of cgroupMounts()) {
    if (m.fstype === "cgroup2") {
      try {
        const ctl = readFileSync(`${m.mountPoint}/cgroup.controllers`, "utf8").split(/\s+/);
        if (ctl.includes("memory") && ctl.includes("pids")) h.unified = m.mountPoint;
      } catch {
        // not readable: unusable
      }
    } else {
      for (const o of m.superOptions) if (o === "memory" || o === "pids") h.v1.set(o, m.mountPoint);
    }
  }
  cached = h;
  return h;
}

export interface StepCgroup {
  /** cgroup.procs files to join. */
  procs: string[];
  /** Kills what is left inside and removes the directories. */
  remove(): Promise<void>;
}

function write(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (e) {
    throw new SandboxError("SETUP", `cannot set the step's resource limit ${file}: ${(e as Error).message}`);
  }
}

/** Creates the step's cgroup(s) with `limits` applied. */
export function createStepCgroup(id: string, limits: RunLimits): StepCgroup {
  const h = hierarchies();
  const dirs: string[] = [];
  const make = (mount: string): string => {
    const parent = `${mount}/${CGROUP_PARENT}`;
    if (!existsSync(parent)) mkdirSync(parent, { recursive: true });
    if (mount === h.unified) {
      try {
        writeFileSync(`${parent}/cgroup.subtree_control`, "+memory +pids");
      } catch {
        // already enabled, or refused: the limit files below say so
      }
    }
    const dir = `${parent}/${id}`;
    mkdirSync(dir);
    dirs.push(dir);
    return dir;
  };
  if (h.unified) {
    const dir = make(h.unified);
    if (limits.memory !== undefined) {
      write(`${dir}/memory.max`, String(limits.memory));
      // Docker's --memory-swap is memory plus swap; v2 limits swap alone.
      const total = memoryPlusSwap(limits.memory, limits.memorySwap);
      write(`${dir}/memory.swap.max`, total < 0 ? "max" : String(Math.max(0, total - limits.memory)));
    }
    if (limits.pids !== undefined) write(`${dir}/pids.max`, String(limits.pids));
  } else {
    if (limits.memory !== undefined) {
      const m = h.v1.get("memory");
      if (!m) throw new SandboxError("UNAVAILABLE", "--memory needs the cgroup memory controller, which this host does not mount");
      const dir = make(m);
      write(`${dir}/memory.limit_in_bytes`, String(limits.memory));
      const memsw = `${dir}/memory.memsw.limit_in_bytes`;
      if (existsSync(memsw)) write(memsw, String(memoryPlusSwap(limits.memory, limits.memorySwap)));
    }
    if (limits.pids !== undefined) {
      const p = h.v1.get("pids");
      if (!p) throw new SandboxError("UNAVAILABLE", "--pids-limit needs the cgroup pids controller, which this host does not mount");
      write(`${make(p)}/pids.max`, String(limits.pids));
    }
  }
  return {
    procs: dirs.map((d) => `${d}/cgroup.procs`),
    remove: () => removeCgroups(dirs),
  };
}

async function removeCgroups(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let i = 0; i < 40; i++) {
      const pids = (await readFile(`${dir}/cgroup.procs`, "utf8").catch(() => "")).split("\n").filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), "SIGKILL");
        } catch {
          // gone
        }
      }
      try {
        await rmdir(dir);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") break;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }
}
