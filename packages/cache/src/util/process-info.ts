// Who owns a temp file, lease or lock: pid plus the process start time, so that a
// recycled pid is not mistaken for the process that wrote the record.
import { readFileSync } from "node:fs";

const startTimes = new Map<number, string | null>();

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when the process does not exist. On systems without /proc, "0".
 */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ESRCH") {
      if (procAvailable()) return undefined;
      return processExists(pid) ? "0" : undefined;
    }
    throw e;
  }
  // comm (field 2) may hold spaces and parentheses: fields are counted after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const start = rest[19];
  return start ?? "0";
}

let procChecked: boolean | undefined;
function procAvailable(): boolean {
  if (procChecked === undefined) {
    try {
      readFileSync("/proc/self/stat");
      procChecked = true;
    } catch {
      procChecked = false;
    }
  }
  return procChecked;
}

/** True while process `pid` exists (kill 0; EPERM: it exists, as another user's). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The start time of this process (cached). */
export function selfStartTime(): string {
  let s = startTimes.get(process.pid);
  if (s == null) {
    s = processStartTime(process.pid) ?? "0";
    startTimes.set(process.pid, s);
  }
  return s;
}

/** `<pid>.<start>`: the owner tag written into temp names, leases and markers. */
export function ownerTag(): string {
  return `${process.pid}.${selfStartTime()}`;
}

/** Parses an owner tag; undefined when `tag` is not one. */
export function parseOwnerTag(tag: string): { pid: number; start: string } | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(tag);
  if (!m) return undefined;
  return { pid: Number(m[1]), start: m[2]! };
}

/** True while the process that wrote `pid`/`start` is still running. */
export function isOwnerAlive(pid: number, start: string): boolean {
  if (pid === process.pid) return start === selfStartTime();
  const now = processStartTime(pid);
  return now !== undefined && (now === start || now === "0" || start === "0");
}
