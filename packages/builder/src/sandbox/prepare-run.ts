// The executor-independent part of a run: checks the spec, resolves every mount target
// inside the rootfs (following the image's symlinks without leaving it, as runc does),
// creates the mount stubs and checks the command exists.
import { readFileSync, statSync } from "node:fs";
import { cleanPath, isWithin } from "../fs/container-path.js";
import { SandboxError } from "./errors.js";
import { DEFAULT_HOSTNAME, validHostname } from "./etc-files.js";
import { checkExecutable, DEFAULT_PATH, envValue } from "./lookpath.js";
import { RootfsAccess } from "./rootfs-access.js";
import { MountStubs } from "./mount-stubs.js";
import type { MountSpec, RunSpec } from "./types.js";

/** A RunSpec mount with its target resolved inside the rootfs. */
export interface ResolvedMount {
  spec: MountSpec;
  /** Clean container path with no symlink in it. */
  target: string;
  /** The target lies in the sandbox's own /dev, which the executor builds (no stub in the rootfs). */
  inDev: boolean;
  /** For binds: the source is a file (the target is a file too). */
  sourceIsFile: boolean;
  /** The target lies inside an earlier mount of the list: its mountpoint is made at mount time, not stubbed in the rootfs. */
  nested: boolean;
}

export interface PreparedRun {
  rootfs: RootfsAccess;
  stubs: MountStubs;
  hostname: string;
  /** env with PATH (BuildKit's default) and HOME (from /etc/passwd, as runc does) added when missing. */
  env: string[];
  etc: { hosts: string; resolvConf: string; hostname: string };
  mounts: ResolvedMount[];
  cwd: string;
}

const SPECIAL = ["/proc", "/sys", "/dev"];

function checkSpec(spec: RunSpec): void {
  const bad = (msg: string) => new SandboxError("SETUP", `invalid RUN sandbox spec: ${msg}`);
  if (spec.args.length === 0) throw bad("no command given");
  for (const a of spec.args) if (a.includes("\0")) throw bad(`an argument contains a NUL byte: ${JSON.stringify(a)}`);
  for (const e of spec.env) {
    if (!/^[^=\0]+=[^\0]*$/.test(e)) throw bad(`environment entries must look like NAME=value: ${JSON.stringify(e)}`);
  }
  if (!spec.cwd.startsWith("/")) throw bad(`the working directory must be absolute: ${spec.cwd}`);
  const ids = [spec.user.uid, spec.user.gid, ...spec.user.additionalGids];
  if (!ids.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1)) throw bad(`bad user or group id in ${JSON.stringify(spec.user)}`);
  if (spec.hostname !== undefined && !validHostname(spec.hostname)) throw bad(`bad hostname ${JSON.stringify(spec.hostname)}`);
  for (const m of spec.mounts) {
    if (!m.target.startsWith("/")) throw bad(`mount targets must be absolute: ${m.target}`);
    if (m.type === "bind" && !m.source.startsWith("/")) throw bad(`bind mount sources must be absolute host paths: ${m.source}`);
  }
}

/** The home directory of `uid` in the rootfs' /etc/passwd, "/" if none: runc sets HOME this way. */
async function homeOf(rootfs: RootfsAccess, uid: number): Promise<string> {
  try {
    const e = rootfs.lstat(await rootfs.resolve("/etc/passwd"));
    if (e?.type !== "file") return "/";
    for (const line of readFileSync(e.hostPath, "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 7 && f[2] === String(uid) && f[5]) return f[5];
    }
  } catch {
    // unreadable passwd: the default
  }
  return "/";
}

/**
 * Resolves and creates everything the run needs inside the rootfs. On success the caller
 * owns `stubs` and must call `stubs.removeUnchanged()` after the run; on failure the stubs
 * made so far are removed here.
 */
export async function prepareRun(spec: RunSpec): Promise<PreparedRun> {
  checkSpec(spec);
  const rootfs = await RootfsAccess.open(spec.rootfs);
  const stubs = new MountStubs(rootfs);
  try {
    for (const p of SPECIAL) {
      const r = await rootfs.resolve(p);
      if (r !== p) throw new SandboxError("SETUP", `the rootfs has a symlink at ${p} (to ${r}); the sandbox needs a real ${p} directory there`);
      stubs.ensure(p, "dir");
    }
    const etcTarget = async (p: string) => {
      const r = await rootfs.resolve(p);
      if (SPECIAL.some((s) => isWithin(s, r))) throw new SandboxError("SETUP", `${p} points into ${r}, where the sandbox cannot place it`);
      stubs.ensure(r, "file");
      return r;
    };
    const etc = {
      hosts: await etcTarget("/etc/hosts"),
      resolvConf: await etcTarget("/etc/resolv.conf"),
      hostname: await etcTarget("/etc/hostname"),
    };
    const mounts: ResolvedMount[] = [];
    for (const m of spec.mounts) {
      const target = await rootfs.resolve(cleanPath(m.target));
      if (target === "/") throw new SandboxError("SETUP", `cannot mount over the root directory (mount target ${m.target})`);
      if (isWithin("/proc", target) || isWithin("/sys", target)) throw new SandboxError("SETUP", `cannot mount over ${target} (mount target ${m.target})`);
      let sourceIsFile = false;
      if (m.type === "bind") {
        try {
          sourceIsFile = !statSync(m.source).isDirectory();
        } catch (e) {
          throw new SandboxError("SETUP", `bind mount source ${m.source} cannot be used: ${(e as Error).message}`);
        }
      }
      const inDev = isWithin("/dev", target);
      if (inDev && target === "/dev") throw new SandboxError("SETUP", `cannot mount over /dev (mount target ${m.target})`);
      const nested = mounts.some((prev) => isWithin(prev.target, target));
      if (!inDev && !nested) stubs.ensure(target, sourceIsFile ? "file" : "dir");
      mounts.push({ spec: m, target, inDev, sourceIsFile, nested });
    }
    const cwd = await rootfs.resolve(cleanPath(spec.cwd));
    if (!SPECIAL.some((s) => isWithin(s, cwd)) && !mounts.some((m) => isWithin(m.target, cwd))) {
      stubs.ensure(cwd, "dir", { uid: spec.user.uid, gid: spec.user.gid, mode: 0o755, keep: spec.commitCwd ?? false });
    }
    await stubs.settle();
    const env = [...spec.env];
    if (envValue(env, "PATH") === undefined) env.push(`PATH=${DEFAULT_PATH}`);
    if (envValue(env, "HOME") === undefined) env.push(`HOME=${await homeOf(rootfs, spec.user.uid)}`);
    await checkExecutable(rootfs, spec.args[0]!, env, cwd, [...SPECIAL, ...mounts.map((m) => m.target)]);
    return { rootfs, stubs, hostname: spec.hostname ?? DEFAULT_HOSTNAME, env, etc, mounts, cwd };
  } catch (e) {
    await stubs.removeUnchanged().catch(() => {});
    throw e;
  }
}
