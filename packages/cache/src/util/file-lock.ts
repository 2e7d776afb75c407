// Cross-process locks that a SIGKILL cannot leave behind.
//
// Node has no flock(2), so the lock is held by a tiny child process: `flock(1)` takes
// the lock on the file, prints a line, then `cat` waits on a pipe from us. Releasing
// closes the pipe. If we die in any way (even SIGKILL), the kernel closes our end of
// the pipe, `cat` sees EOF and exits, and the kernel drops the lock with the last file
// descriptor. No pid files, no stale-lock heuristics, no stealing races.
import { spawn } from "node:child_process";
import { StoreError } from "../errors.js";

/** A held lock; `release()` is idempotent. */
export interface FileLock {
  release(): Promise<void>;
}

/** In-process queue per path, so one process does not spawn a crowd of waiting children. */
const localQueues = new Map<string, Promise<void>>();

/**
 * Takes an exclusive or shared flock(2) lock on `file` (created if missing), waiting as
 * long as another process holds a conflicting one. Within one process, exclusive
 * acquisitions of the same path are queued before a child process is started.
 */
export async function lockFile(file: string, mode: "exclusive" | "shared" = "exclusive"): Promise<FileLock> {
  if (mode === "shared") return spawnLock(file, mode);
  const prev = localQueues.get(file) ?? Promise.resolve();
  let releaseLocal!: () => void;
  const mine = new Promise<void>((r) => (releaseLocal = r));
  const chained = prev.then(() => mine);
  localQueues.set(file, chained);
  await prev;
  let lock: FileLock;
  try {
    lock = await spawnLock(file, mode);
  } catch (e) {
    releaseLocal();
    if (localQueues.get(file) === chained) localQueues.delete(file);
    throw e;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await lock.release();
      releaseLocal();
      if (localQueues.get(file) === chained) localQueues.delete(file);
    },
  };
}

/**
 * Takes an exclusive lock on `file` only if no one holds it: resolves with the lock, or with
 * undefined when another process (or this one) has it.
 */
export async function tryLockFile(file: string): Promise<FileLock | undefined> {
  if (localQueues.has(file)) return undefined;
  return spawnLock(file, "exclusive", true);
}

function spawnLock(file: string, mode: "exclusive" | "shared", noWait: true): Promise<FileLock | undefined>;
function spawnLock(file: string, mode: "exclusive" | "shared"): Promise<FileLock>;
function spawnLock(file: string, mode: "exclusive" | "shared", noWait = false): Promise<FileLock | undefined> {
  return new Promise((resolve, reject) => {
    // flock -n exits with 1 (and prints nothing) when the lock is taken.
    const child = spawn("flock", [...(noWait ? ["-n"] : []), mode === "shared" ? "-s" : "-x", file, "-c", "echo locked; exec cat"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let acquired = false;
    const exited = new Promise<void>((r) => child.once("close", () => r()));
    child.on("error", (e) => {
      const hint = (e as NodeJS.ErrnoException).code === "ENOENT" ? " (install util-linux, which provides flock(1))" : "";
      reject(new StoreError(`cannot lock ${file}: ${e.message}${hint}`, { cause: e }));
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (!acquired && out.includes("locked\n")) {
        acquired = true;
        resolve({
          async release() {
            if (!child.stdin.destroyed) child.stdin.end();
            await exited;
          },
        });
      }
    });
    child.once("close", (code) => {
      if (!acquired && noWait && code === 1 && err === "") return resolve(undefined);
      if (!acquired) reject(new StoreError(`cannot lock ${file}: flock exited with ${code}: ${err.trim()}`));
    });
  });
}
