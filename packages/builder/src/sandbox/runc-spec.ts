// The OCI runtime spec (config.json) of a RUN for runc: the namespaces, mounts, process
// and hardening Docker gives a container by default (capabilities, masked and read-only
// /proc paths, device allow-list), without a terminal and with no_new_privs unset.
import { heldCaps, DOCKER_DEFAULT_CAPS } from "./capabilities.js";
import { memoryPlusSwap, stepRlimits, type RunLimits } from "./limits.js";
import { MASKED_PATHS, READONLY_PATHS } from "./proc-masks.js";
import { ociSeccomp } from "./seccomp-profile.js";

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
  limits?: RunLimits;
  /** RUN --security=insecure (entitled): all capabilities, no filter or masks, the host's devices. */
  privileged?: boolean;
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
  const priv = i.privileged === true;
  const caps = [...(priv ? heldCaps() : DOCKER_DEFAULT_CAPS)];
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
      rlimits: stepRlimits(i.limits).map((r) => ({ type: `RLIMIT_${r.name.toUpperCase()}`, hard: ociLimit(r.hard), soft: ociLimit(r.soft) })),
      noNewPrivileges: false,
    },
    root: { path: i.rootfs, readonly: false },
    hostname: i.hostname,
    mounts: priv ? [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "bind", source: "/dev", options: ["rbind", "nosuid"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev"] },
      ...i.mounts,
    ] : [
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
      resources: { devices: priv ? [{ allow: true, access: "rwm" }] : DEVICE_RULES, ...ociResources(i.limits) },
      ...(priv ? {} : { seccomp: ociSeccomp(caps), maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
    },
  };
}

/** An rlimit value in the spec: unlimited is all ones (RLIM_INFINITY). */
function ociLimit(v: number | "unlimited"): number | string {
  return v === "unlimited" || v < 0 ? INFINITY_MARK : v;
}

const INFINITY_MARK = "tbuild:RLIM_INFINITY";

/** config.json text of a spec (a JS number cannot hold RLIM_INFINITY, 2^64-1). */
export function runcSpecJSON(spec: object): string {
  return JSON.stringify(spec).replaceAll(`"${INFINITY_MARK}"`, "18446744073709551615");
}

function ociResources(l: RunLimits | undefined): object {
  const out: Record<string, object> = {};
  if (l?.memory !== undefined) {
    out.memory = { limit: l.memory, swap: memoryPlusSwap(l.memory, l.memorySwap) };
  }
  if (l?.pids !== undefined) out.pids = { limit: l.pids };
  return out;
}
