// Host-side scratch of a running step: a private directory under the runtime root
// ($TBUILD_RUNTIME_DIR, default /run/tbuild) holding the fstab, the etc files that get bind
// mounted, overlay link names, the sandbox's /dev skeleton and the runc bundle. It is
// removed after the step; everything in it is small except the upper dirs of writable
// `layers` mounts, whose changes are discarded with it.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";

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

/** Removes a step directory (after the sandbox is gone). */
export function removeStepDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
