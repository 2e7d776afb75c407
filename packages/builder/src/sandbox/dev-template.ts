// The sandbox's /dev, as Docker gives it to a container: a small tmpfs with the default
// character devices (null, zero, full, random, urandom, tty), a private devpts with
// ptmx, shm and mqueue, and the usual symlinks. tbuild-enter makes the device nodes per
// step in a tmpfs no path of the sandbox reaches and binds each onto /dev/NAME; /dev
// itself is nodev (as is the rootfs), so a node a step makes with mknod cannot be opened,
// the effect Docker's device cgroup rules have. Nothing is bound from the host's /dev.
import type { FstabEntry } from "./fstab.js";

/** Name, major and minor of the default devices (runc's list minus console). */
export const DEFAULT_DEVICES: readonly (readonly [string, number, number])[] = [
  ["null", 1, 3], ["zero", 1, 5], ["full", 1, 7], ["random", 1, 8], ["urandom", 1, 9], ["tty", 5, 0],
];

export const DEV_LINKS: readonly (readonly [string, string])[] = [
  ["/proc/self/fd", "/dev/fd"],
  ["/proc/self/fd/0", "/dev/stdin"],
  ["/proc/self/fd/1", "/dev/stdout"],
  ["/proc/self/fd/2", "/dev/stderr"],
  ["pts/ptmx", "/dev/ptmx"],
];

/** The mounts that make the sandbox's /dev (container paths). */
export function devMounts(): FstabEntry[] {
  return [
    { source: "tmpfs", target: "/dev", fstype: "tmpfs", options: ["nosuid", "nodev", "strictatime", "mode=755", "size=65536k"] },
    { source: "devpts", target: "/dev/pts", fstype: "devpts", options: ["newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "nosuid", "noexec"] },
    { source: "shm", target: "/dev/shm", fstype: "tmpfs", options: ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"] },
    { source: "mqueue", target: "/dev/mqueue", fstype: "mqueue", options: ["nosuid", "nodev", "noexec"] },
  ];
}
