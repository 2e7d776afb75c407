// How the harness invokes tbuild: the built CLI under the same node that runs the harness.

import { TBUILD_MAIN } from "./paths.js";

/** argv of `tbuild --root ROOT ARGS…`, optionally with extra node flags (profiling). */
export function tbuildArgv(root: string, args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  return [process.execPath, ...nodeFlags, TBUILD_MAIN, "--root", root, ...args];
}
