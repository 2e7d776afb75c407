// Writing overlay-format markers without native calls: whiteouts are char devices 0/0
// (Node cannot mknod, so one `mknod` makes the first and the rest are hard links to it, the
// way overlayfs itself shares one whiteout inode), opaque directories carry
// trusted.overlay.opaque=y, or user.overlay.opaque=y in rootless mode (one setfattr for all of them).
import { execFile } from "node:child_process";
import { link } from "node:fs/promises";
import { overlayXattrPrefix } from "@tbuild/oci";
import { findTool } from "../sandbox/host-tools.js";

function run(tool: string, pkg: string, args: string[]): Promise<void> {
  const bin = findTool(tool);
  if (bin === undefined) return Promise.reject(new Error(`"${tool}" is needed to write overlay-format snapshots but is not installed; install the Debian package "${pkg}"`));
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20 }, (err, _out, stderr) => {
      if (err) reject(new Error(`${tool} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/** Creates a whiteout (char device 0/0) at each absolute path; parents must exist. */
export async function makeWhiteouts(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await run("mknod", "coreutils", ["-m", "0000", "--", paths[0]!, "c", "0", "0"]);
  for (const p of paths.slice(1)) await link(paths[0]!, p);
}

const BATCH = 1000;

/** Marks each absolute directory path opaque. */
export async function markOpaque(dirs: readonly string[]): Promise<void> {
  for (let i = 0; i < dirs.length; i += BATCH) {
    await run("setfattr", "attr", ["-h", "-n", `${overlayXattrPrefix()}opaque`, "-v", "y", "--", ...dirs.slice(i, i + BATCH)]);
  }
}

/** Removes the opaque marker from each absolute directory path (copies of layer dirs in a plain rootfs). */
export async function unmarkOpaque(dirs: readonly string[]): Promise<void> {
  for (let i = 0; i < dirs.length; i += BATCH) {
    await run("setfattr", "attr", ["-h", "-x", `${overlayXattrPrefix()}opaque`, "--", ...dirs.slice(i, i + BATCH)]);
  }
}
