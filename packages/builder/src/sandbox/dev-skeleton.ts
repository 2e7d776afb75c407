// The unshare executor's /dev: a directory in the step dir, bind mounted over the rootfs'
// /dev, holding empty files on which the host's null, zero, full, random, urandom and tty
// nodes are bind mounted (Node cannot mknod), the mountpoints of pts, shm and mqueue, and
// the usual symlinks. Writes a RUN makes to /dev land here and are discarded with the
// step dir, like Docker's per-container /dev tmpfs.
import { closeSync, mkdirSync, openSync, symlinkSync } from "node:fs";
import type { FstabEntry } from "./fstab.js";

export const DEVICE_NODES = ["null", "zero", "full", "random", "urandom", "tty"] as const;

const LINKS: [string, string][] = [
  ["fd", "/proc/self/fd"],
  ["stdin", "/proc/self/fd/0"],
  ["stdout", "/proc/self/fd/1"],
  ["stderr", "/proc/self/fd/2"],
  ["ptmx", "pts/ptmx"],
];

/** Creates the skeleton in `dir` (which must not exist yet). */
export function makeDevSkeleton(dir: string): void {
  mkdirSync(dir, { mode: 0o755 });
  for (const d of ["pts", "shm", "mqueue"]) mkdirSync(`${dir}/${d}`, { mode: 0o755 });
  for (const n of DEVICE_NODES) closeSync(openSync(`${dir}/${n}`, "wx", 0o666));
  for (const [name, target] of LINKS) symlinkSync(target, `${dir}/${name}`);
}

/** The mounts that turn the skeleton into the sandbox's /dev at `devTarget` (a host path). */
export function devMounts(skeleton: string, devTarget: string): FstabEntry[] {
  return [
    { source: skeleton, target: devTarget, fstype: "none", options: ["bind", "nosuid"] },
    ...DEVICE_NODES.map((n): FstabEntry => ({ source: `/dev/${n}`, target: `${devTarget}/${n}`, fstype: "none", options: ["bind"] })),
    { source: "devpts", target: `${devTarget}/pts`, fstype: "devpts", options: ["newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "nosuid", "noexec"] },
    { source: "shm", target: `${devTarget}/shm`, fstype: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"] },
    { source: "mqueue", target: `${devTarget}/mqueue`, fstype: "mqueue", options: ["nosuid", "nodev", "noexec"] },
  ];
}
