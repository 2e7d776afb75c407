// Host-side scratch of a running step: a private directory under the runtime root
// ($TBUILD_RUNTIME_DIR, default /run/tbuild) holding the fstab, the etc files that get bind
// mounted, overlay link names, the sandbox's /dev skeleton and the runc bundle. It is
// removed after the step; everything in it is small except the upper dirs of writable
// `layers` mounts, whose changes are discarded with it.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";

let ensured: string | undefined;

/** The runtime root, created (mode 0700) on first use. */
export function runtimeRoot(): string {
  const root = process.env.TBUILD_RUNTIME_DIR || "/run/tbuild";
  if (ensured !== root) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    ensured = root;
  }
  return root;
}

/** Creates a fresh step directory under the runtime root, named after our pid (see leftovers.ts). */
export function makeStepDir(): string {
  return mkdtempSync(`${runtimeRoot()}/s-${process.pid}-`);
}

/** Step directories whose removal has started but not finished. */
const removing = new Map<string, Promise<void>>();
let exitHook = false;

/**
 * Removes a step directory (after the sandbox is gone) in the background: nothing reads it
 * again, and a synchronous removal cost each step several milliseconds of the main thread.
 * What is still there when the process exits is removed then; after a crash, the next
 * executor's sweep (leftovers.ts) takes it.
 */
export function removeStepDir(dir: string): void {
  if (!exitHook) process.once("exit", removeRemaining);
  exitHook = true;
  const done = rm(dir, { recursive: true, force: true, maxRetries: 3 }).then(
    () => void removing.delete(dir),
    () => {}, // left for removeRemaining or the sweep
  );
  removing.set(dir, done);
}

/** Resolves when the step directories removed so far are gone (or their removal failed). */
export async function stepDirsRemoved(): Promise<void> {
  await Promise.all(removing.values());
}

function removeRemaining(): void {
  for (const dir of removing.keys()) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // the sweep of a later run takes it
    }
  }
  removing.clear();
}
