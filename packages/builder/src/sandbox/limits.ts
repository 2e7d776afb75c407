// Resource limits of a RUN step: docker build's --ulimit, --memory, --memory-swap and
// --pids-limit. Both executors apply them: rlimits with setrlimit(2) right before the
// command starts, memory and pids through the step's cgroup.
import { readFileSync } from "node:fs";

/** One `--ulimit name=soft[:hard]` (Docker's names; "unlimited" or -1 for no limit). */
export interface Ulimit {
  name: string;
  soft: number | "unlimited";
  hard: number | "unlimited";
}

export interface RunLimits {
  /** Memory limit in bytes (cgroup memory.max / memory.limit_in_bytes). */
  memory?: number;
  /** Memory plus swap in bytes; -1 for unlimited swap (Docker's --memory-swap). */
  memorySwap?: number;
  /** Most processes and threads the step may have at once. */
  pids?: number;
  ulimits?: Ulimit[];
}

/** Linux RLIMIT_* numbers of Docker's ulimit names. */
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10,
  sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};

let nofileCache: number | undefined;

/** Our own hard RLIMIT_NOFILE (a step may not get more than we have), capped at Docker's 1048576. */
export function defaultNofile(): number {
  if (nofileCache !== undefined) return nofileCache;
  let hard = 1048576;
  try {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m && m[1] !== "unlimited") hard = Math.min(hard, Number(m[1]));
  } catch {
    // keep the default
  }
  nofileCache = hard;
  return hard;
}

/** The rlimits a step gets: nofile as BuildKit sets it, then the step's --ulimit values (which win). */
export function stepRlimits(limits: RunLimits | undefined): { name: string; resource: number; soft: number | "unlimited"; hard: number | "unlimited" }[] {
  const byName = new Map<string, Ulimit>([["nofile", { name: "nofile", soft: defaultNofile(), hard: defaultNofile() }]]);
  for (const u of limits?.ulimits ?? []) byName.set(u.name, u);
  return [...byName.values()].map((u) => {
    const resource = RLIMIT_NUMBERS[u.name];
    if (resource === undefined) throw new Error(`unknown ulimit ${u.name}`);
    return { name: u.name, resource, soft: u.soft, hard: u.hard };
  });
}

/** Memory plus swap as Docker means --memory-swap: twice the memory limit when not given, -1 for unlimited swap. */
export function memoryPlusSwap(memory: number, memorySwap: number | undefined): number {
  return memorySwap === undefined ? memory * 2 : memorySwap < 0 ? -1 : memorySwap;
}

/** True if the step needs a cgroup of its own for its limits. */
export function needsCgroup(limits: RunLimits | undefined): boolean {
  return limits?.memory !== undefined || limits?.pids !== undefined;
}
