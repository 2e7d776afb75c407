// How the harness invokes tbuild: the `tbuild` client users run (warm workers), else the
// built CLI under the same node that runs the harness; that too when node flags are given
// (profiling needs the command in a process of its own).

import { TBUILD_CLIENT, TBUILD_MAIN } from "./paths.js";

// A command a warm worker ran says so on stderr, with the worker's peak RSS (warm-pool.ts).
process.env.TBUILD_WARM_DEBUG ??= "1";

/** argv of `tbuild --root ROOT ARGS…`, optionally with extra node flags (profiling). */
export function tbuildArgv(root: string, args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  if (TBUILD_CLIENT && nodeFlags.length === 0) return [TBUILD_CLIENT, "--root", root, ...args];
  return [process.execPath, ...nodeFlags, TBUILD_MAIN, "--root", root, ...args];
}

/** How the harness runs tbuild, for the report. */
export function tbuildMode(): string {
  if (!TBUILD_CLIENT) return `node ${TBUILD_MAIN} (no client built: every command cold)`;
  return process.env.TBUILD_WARM === "0" ? `${TBUILD_CLIENT} with TBUILD_WARM=0 (every command cold)` : `${TBUILD_CLIENT} (warm workers)`;
}
