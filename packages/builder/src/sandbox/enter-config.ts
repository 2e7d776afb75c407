// The configuration file of tbuild-enter (native/tbuild-enter.c): NUL-terminated fields,
// each key followed by its fixed number of values, so that any byte but NUL survives in
// paths, arguments and environment values without quoting rules.
import type { FstabEntry } from "./fstab.js";

/** One mount for tbuild-enter: target is a path inside the rootfs ("/" is the rootfs itself). */
export interface EnterMount {
  source: string;
  target: string;
  fstype: string;
  flags: number;
  data: string;
  /** Create a missing target: "dir", "file" or "" (must exist). */
  create: "" | "dir" | "file";
}

export interface EnterConfig {
  setupDir: string;
  rootDir: string;
  hostname: string;
  newNetwork: boolean;
  uid: number;
  gid: number;
  groups: number[];
  /** Bounding (and for root, effective and permitted) capability mask. */
  caps: bigint;
  /** Path of the seccomp rules file, or undefined for no filter. */
  seccomp?: string;
  cgroupProcs: string[];
  rlimits: { resource: number; soft: number | "unlimited"; hard: number | "unlimited" }[];
  mounts: EnterMount[];
  /** Character devices made for /dev once it is mounted: name, major, minor. */
  devices: readonly (readonly [string, number, number])[];
  /** Symlinks made after the devices: [link target, container path]. */
  links: readonly (readonly [string, string])[];
  cwd: string;
  env: string[];
  args: string[];
  /** Containers: give the command fd 0 (else /dev/null). */
  stdin?: boolean;
  /** Containers: a terminal of the sandbox's devpts as stdin/stdout/stderr, relayed by the helper. */
  tty?: boolean;
  /** Containers: a network namespace (a file such as /run/netns/NAME) to join instead of the host's or a new one. */
  netns?: string;
  /** exec: the host pid of a running sandbox's pid 1, whose namespaces are entered (no mounts are made). */
  join?: number;
}

const MS: Readonly<Record<string, number>> = {
  ro: 0x1, nosuid: 0x2, nodev: 0x4, noexec: 0x8, bind: 0x1000, rbind: 0x1000 | 0x4000, strictatime: 0x1000000,
};

/** Splits mount(8)-style options into mount(2) flags and the filesystem's data string. */
export function mountFlags(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    if (o === "rw" || o === "defaults") continue;
    const f = MS[o];
    if (f !== undefined) flags |= f;
    else data.push(o);
  }
  return { flags, data: data.join(",") };
}

/** An fstab-style entry whose target is a container path, as an EnterMount. */
export function enterMount(e: FstabEntry, create: EnterMount["create"] = ""): EnterMount {
  const { flags, data } = mountFlags(e.options);
  return { source: e.source, target: e.target, fstype: e.fstype === "none" ? "" : e.fstype, flags, data, create };
}

function field(s: string): string {
  if (s.includes("\0")) throw new Error(`a sandbox setting cannot contain a NUL byte: ${JSON.stringify(s)}`);
  return s + "\0";
}

/** Encodes the configuration file. */
export function encodeEnterConfig(c: EnterConfig): Buffer {
  const f: string[] = [];
  const kv = (k: string, ...v: (string | number | bigint)[]) => f.push(field(k), ...v.map((x) => field(String(x))));
  kv("setupdir", c.setupDir);
  kv("rootdir", c.rootDir);
  kv("hostname", c.hostname);
  kv("newnet", c.newNetwork ? 1 : 0);
  if (c.netns !== undefined) kv("netns", c.netns);
  if (c.join !== undefined) kv("join", c.join);
  if (c.tty) kv("tty", 1);
  if (c.stdin) kv("stdin", 1);
  kv("uid", c.uid);
  kv("gid", c.gid);
  for (const g of c.groups) kv("group", g);
  kv("caps", `0x${c.caps.toString(16)}`);
  if (c.seccomp !== undefined) kv("seccomp", c.seccomp);
  for (const p of c.cgroupProcs) kv("cgroup", p);
  for (const r of c.rlimits) kv("rlimit", r.resource, limitWord(r.soft), limitWord(r.hard));
  for (const m of c.mounts) kv("mount", m.source, m.target, m.fstype, m.flags, m.data, m.create);
  for (const [name, major, minor] of c.devices) kv("device", name, major, minor);
  for (const [target, at] of c.links) kv("symlink", target, at);
  kv("cwd", c.cwd);
  for (const e of c.env) kv("env", e);
  for (const a of c.args) kv("arg", a);
  return Buffer.from(f.join(""), "utf8");
}

function limitWord(v: number | "unlimited"): string {
  return v === "unlimited" || v < 0 ? "unlimited" : String(Math.floor(v));
}
