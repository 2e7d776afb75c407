// The unshare executor's /dev: an overlayfs whose lower layer is a template holding the
// device nodes null, zero, full, random, urandom and tty (copied once from the host's with
// `cp -a`; Node cannot mknod), the mountpoints of pts, shm and mqueue and the usual
// symlinks, and whose upper dir lives in the step dir. Device nodes are never bind mounted
// from the host: a RUN running as root could chmod or chown those (Docker's CAP_FOWNER and
// CAP_CHOWN) and so change the host's /dev/null. Through the overlay such changes are
// copied up into the step's upper dir and thrown away with it; the template and the host
// stay as they were. The overlay mount, not the template's filesystem, decides whether
// device nodes may be opened, so a runtime root on a nodev tmpfs (/run) works.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { SandboxError } from "./errors.js";
import type { FstabEntry } from "./fstab.js";
import { findTool } from "./host-tools.js";
import { runtimeRoot } from "./runtime-dir.js";

export const DEVICE_NODES = ["null", "zero", "full", "random", "urandom", "tty"] as const;

const LINKS: [string, string][] = [
  ["fd", "/proc/self/fd"],
  ["stdin", "/proc/self/fd/0"],
  ["stdout", "/proc/self/fd/1"],
  ["stderr", "/proc/self/fd/2"],
  ["ptmx", "pts/ptmx"],
];

let made: string | undefined;

/** The template directory (created on first use, shared by all steps and processes). */
export function devTemplate(): string {
  const path = `${runtimeRoot()}/dev-template-v1`;
  if (made === path && existsSync(path)) return path;
  if (!existsSync(path)) {
    const cp = findTool("cp");
    if (cp === undefined) throw new SandboxError("UNAVAILABLE", `the sandbox's /dev needs "cp" (Debian package coreutils), which is not installed`);
    const tmp = `${path}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: 0o755 });
    execFileSync(cp, ["-a", "--", ...DEVICE_NODES.map((n) => `/dev/${n}`), tmp]);
    for (const d of ["pts", "shm", "mqueue"]) mkdirSync(`${tmp}/${d}`, { mode: 0o755 });
    for (const [name, target] of LINKS) symlinkSync(target, `${tmp}/${name}`);
    try {
      renameSync(tmp, path);
    } catch (e) {
      // Another process made it first.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(path)) throw e;
    }
  }
  made = path;
  return path;
}

/** The upper and work dirs of a step's /dev overlay, inside the step dir. */
export function devUpperDirs(stepDir: string): { upper: string; work: string } {
  const upper = `${stepDir}/dev-upper`;
  const work = `${stepDir}/dev-work`;
  mkdirSync(upper, { mode: 0o755 });
  mkdirSync(work, { mode: 0o700 });
  return { upper, work };
}

/** The mounts that make the sandbox's /dev at host path `devTarget`. */
export function devMounts(template: string, dirs: { upper: string; work: string }, devTarget: string): FstabEntry[] {
  return [
    { source: "overlay", target: devTarget, fstype: "overlay", options: [`lowerdir=${template},upperdir=${dirs.upper},workdir=${dirs.work}`, "nosuid"] },
    { source: "devpts", target: `${devTarget}/pts`, fstype: "devpts", options: ["newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "nosuid", "noexec"] },
    { source: "shm", target: `${devTarget}/shm`, fstype: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"] },
    { source: "mqueue", target: `${devTarget}/mqueue`, fstype: "mqueue", options: ["nosuid", "nodev", "noexec"] },
  ];
}
