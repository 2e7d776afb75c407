// The pool's shared state, in a directory beside its socket (SOCKET.d, in the private
// directory): which workers are ready (an empty file ready.PID each) and which one is loading
// (the file `loading`, holding its pid). A dead process's files count for nothing.
//
// Why: a worker that loads while a command runs takes the command's CPU (~0.12 s of CPU each,
// more than Node's own start; measured: a push right after two commands took 0.19-0.25 s with
// their successors loading, 0.10-0.12 s without, at nice 10 or not). So a successor waits
// before it starts (native/warm-wait.c) and before it loads (waitForTurn): until the machine is
// quiet, or no worker is ready and no other one is loading for that reason. And a burst of commands
// that finds no worker ready grows the pool (worker.ts), up to MAX_MEMBERS processes; the
// extra ones leave after a shorter idle time.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
// The subpath, not the package: warm.js (the launcher) must not initialise the rest of the cache.
import { processExists as alive } from "@tbuild/cache/process-info";

/** The pool's directory for the workers listening on `socket`. */
export const poolDir = (socket: string) => `${socket}.d`;

/** Creates the pool's directory unless it exists; not its parent: a pool whose private directory was removed is over. */
function ensurePoolDir(socket: string): void {
  try {
    mkdirSync(poolDir(socket), { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Creates the empty file `name` in the pool's directory. */
function mark(socket: string, name: string): void {
  ensurePoolDir(socket);
  closeSync(openSync(path.join(poolDir(socket), name), "w"));
}

/** This worker waits for a client. */
export function markReady(socket: string): void {
  mark(socket, `ready.${process.pid}`);
}

/** This worker took a command. */
export function unmarkReady(socket: string): void {
  rmSync(path.join(poolDir(socket), `ready.${process.pid}`), { force: true });
}

/** This worker leaves the pool (exits). */
export function leavePool(socket: string): void {
  unmarkReady(socket);
  rmSync(path.join(poolDir(socket), `member.${process.pid}`), { force: true });
}

/** Records `pid` as a member of the pool: a worker, waiting to start, loading or ready. */
export function addMember(socket: string, pid: number): void {
  mark(socket, `member.${pid}`);
}

/** Live members (addMember), not counting this process. */
export function memberCount(socket: string): number {
  return liveFiles(socket, "member.").filter((pid) => pid !== process.pid).length;
}

/** The pids of live processes with a file PREFIX.PID in the pool directory; the dead ones' files go. */
function liveFiles(socket: string, prefix: string): number[] {
  let names: string[];
  try {
    names = readdirSync(poolDir(socket));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
    const pid = Number(name.slice(prefix.length));
    if (alive(pid)) live.push(pid);
    else rmSync(path.join(poolDir(socket), name), { force: true });
  }
  return live;
}

/** Workers waiting for a client now. */
export function readyCount(socket: string): number {
  return liveFiles(socket, "ready.").length;
}

/** Takes the one loading turn: true when this process has it now. */
export function takeLoadingTurn(socket: string): boolean {
  const file = path.join(poolDir(socket), "loading");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      ensurePoolDir(socket);
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(file, "utf8"));
      } catch {
        // released meanwhile
      }
      // Taken by warm-wait before it exec'd this process (same pid), or by another process.
      if (holder === process.pid) return true;
      if (holder > 0 && alive(holder)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

/** Gives the loading turn back, if this process holds it. */
export function releaseLoadingTurn(socket: string): void {
  const file = path.join(poolDir(socket), "loading");
  try {
    if (Number(readFileSync(file, "utf8")) === process.pid) rmSync(file, { force: true });
  } catch {
    // not held
  }
}

/** The machine's CPU time so far, busy and in all, from /proc/stat (clock ticks). */
function cpuTimes(): { busy: number; total: number } {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/);
  const n = fields.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  return { busy: total - n[3]! - n[4]!, total };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

/** A window this long with the CPUs this idle is quiet. */
const QUIET_WINDOW_MS = 100;
const QUIET_BELOW = 0.25;
/** A successor loads after this long whatever the machine does. */
const MAX_WAIT_MS = 10_000;

/**
 * Blocks a successor until it may load: the machine has been quiet for a moment, or it has
 * waited MAX_WAIT_MS, or no worker is ready (then a client may be waiting for one) and it
 * holds the loading turn, so that a burst of commands has one worker loading at a time.
 */
export function waitForTurn(socket: string): void {
  const start = Date.now();
  let last = cpuTimes();
  let quietMs = 0;
  for (;;) {
    sleep(QUIET_WINDOW_MS / 2);
    const now = cpuTimes();
    const busy = (now.busy - last.busy) / Math.max(1, now.total - last.total);
    last = now;
    quietMs = busy < QUIET_BELOW ? quietMs + QUIET_WINDOW_MS / 2 : 0;
    const late = Date.now() - start > MAX_WAIT_MS;
    if (quietMs >= QUIET_WINDOW_MS || late) return;
    if (readyCount(socket) === 0 && takeLoadingTurn(socket)) return;
  }
}
