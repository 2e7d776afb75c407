// The OCI runtime spec (config.json) of a RUN for runc: the namespaces, mounts, process
// and hardening Docker gives a container by default (capabilities, masked and read-only
// /proc paths, device allow-list), without a terminal and with no_new_privs unset.
import { readFileSync } from "node:fs";
import { DOCKER_DEFAULT_CAPS } from "./capabilities.js";
import { MASKED_PATHS, READONLY_PATHS } from "./proc-masks.js";

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface RuncSpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  hostname: string;
  newNetwork: boolean;
  /** Mounts after the standard ones (etc files, RUN --mount), in order. */
  mounts: OciMount[];
  cgroupsPath: string;
}

let nofileCache: number | undefined;

/** Our own hard RLIMIT_NOFILE (a container may not get more than we have), capped at Docker's 1048576. */
function nofileLimit(): number {
  if (nofileCache !== undefined) return nofileCache;
  let hard = 1048576;
  try {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m && m[1] !== "unlimited") hard = Math.min(hard, Number(m[1]));
  } catch {
    // keep the default
  }
  nofileCache = hard;
  return hard;
}

// Docker's default device cgroup rules: mknod of anything, access to the standard nodes and ptys.
const DEVICE_RULES = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(([major, minor]) => ({ allow: true, type: "c", major, minor, access: "rwm" })),
  { allow: true, type: "c", major: 136, access: "rwm" },
];

/** Builds config.json for `runc run`. */
export function runcSpec(i: RuncSpecInput): object {
  const root = i.uid === 0;
  const caps = [...DOCKER_DEFAULT_CAPS];
  const nofile = nofileLimit();
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (i.newNetwork) namespaces.push({ type: "network" });
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: i.uid, gid: i.gid, additionalGids: i.additionalGids },
      args: i.args,
      env: i.env,
      cwd: i.cwd,
      // As after execve(2) without file capabilities: a non-root user holds none, only the bound.
      capabilities: { bounding: caps, effective: root ? caps : [], permitted: root ? caps : [] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: nofile, soft: nofile }],
      noNewPrivileges: false,
    },
    root: { path: i.rootfs, readonly: false },
    hostname: i.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      ...i.mounts,
    ],
    linux: {
      namespaces,
      cgroupsPath: i.cgroupsPath,
      resources: { devices: DEVICE_RULES },
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}
