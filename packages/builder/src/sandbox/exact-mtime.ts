// Setting modification times to the nanosecond. Node's utimes takes seconds as a double
// and truncates, so a restored time would differ from the original by a few nanoseconds
// and show up as a change in a walk-and-compare diff. GNU touch parses "@S.NNNNNNNNN"
// exactly; one process per distinct time, and only on the rare paths that need it.
import { execFile } from "node:child_process";
import { SandboxError } from "./errors.js";
import { findTool } from "./host-tools.js";

function formatNs(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  return `@${s}.${frac.toString().padStart(9, "0")}`;
}

/** Sets the mtime (not the atime) of each path, symlinks not followed. */
export async function setMtimesExact(entries: readonly { path: string; mtimeNs: bigint }[]): Promise<void> {
  if (entries.length === 0) return;
  const touch = findTool("touch");
  if (touch === undefined) throw new SandboxError("UNAVAILABLE", `restoring directory times needs "touch" (Debian package coreutils), which is not installed`);
  const byTime = new Map<bigint, string[]>();
  for (const e of entries) {
    const list = byTime.get(e.mtimeNs) ?? [];
    list.push(e.path);
    byTime.set(e.mtimeNs, list);
  }
  for (const [ns, paths] of byTime) {
    await new Promise<void>((resolve, reject) => {
      execFile(touch, ["-h", "-m", "-c", "-d", formatNs(ns), "--", ...paths], (err, _out, stderr) => {
        if (err) reject(new SandboxError("SETUP", `could not restore directory times: ${String(stderr).trim() || err.message}`));
        else resolve();
      });
    });
  }
}
