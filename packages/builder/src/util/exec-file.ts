// A host tool run to completion (cp -a, mkfifo, mknod), as a promise. promisify is applied at
// the call, not when the module loads: every build loads the modules that use this, and the
// bundle loads child_process only on first use (scripts/bundle.mjs, lazy built-ins).
import { execFile } from "node:child_process";
import { promisify } from "node:util";

/** Runs `file` with `args`; rejects with the tool's exit status and stderr when it fails. */
export function execFileAsync(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(file, args);
}
