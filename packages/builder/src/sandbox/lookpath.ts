// Finds the command of a RUN in the rootfs before anything starts, the way runc's
// exec.LookPath does inside the container, so that a missing executable is reported as
// the sandbox error BuildKit shows ("executable file not found in $PATH") instead of
// surfacing as an ambiguous exit code 127 from a helper program.
import { closeSync, openSync, readSync } from "node:fs";
import { cleanPath, isWithin } from "../fs/container-path.js";
import { SandboxError } from "./errors.js";
import { binfmtTakes } from "./binfmt.js";
import type { RootfsAccess } from "./rootfs-access.js";

/** BuildKit's PATH when the image sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

type Probe = "ok" | "missing" | "dir" | "noexec" | "format";

/** ELF machine numbers this host's kernel runs natively (32-bit compat included). */
const HOST_MACHINES: Record<string, number[]> = {
  x64: [62, 3], ia32: [3], arm64: [183, 40], arm: [40], riscv64: [243], ppc64: [21], s390x: [22], loong64: [258], mips64el: [8],
};

/**
 * False for a file the kernel cannot execute: neither a #! script nor an ELF binary for
 * this machine (an image of another platform, say) that no binfmt_misc handler (qemu-user)
 * takes. runc reports those as "exec format error"; glibc's execvp, which the unshare
 * executor's last helper uses, would instead hand them to /bin/sh as scripts — so both
 * executors refuse them here, the way runc words it.
 */
function executableFormat(hostPath: string): boolean {
  const head = Buffer.alloc(256); // the kernel matches binfmt magic within its first 256 bytes
  const fd = openSync(hostPath, "r");
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const bytes = head.subarray(0, n);
  if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return true;
  if (n >= 20 && head.toString("latin1", 0, 4) === "\x7fELF") {
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    const native = HOST_MACHINES[process.arch];
    if (native === undefined || native.includes(machine)) return true;
  }
  // Not native: runnable only through a binfmt_misc handler (qemu-user for a foreign ELF).
  return binfmtTakes(bytes);
}

async function probe(rootfs: RootfsAccess, p: string): Promise<Probe> {
  const resolved = await rootfs.resolve(p);
  const e = rootfs.lstat(resolved);
  if (e === undefined) return "missing";
  if (e.type === "dir") return "dir";
  if ((e.mode & 0o111) === 0) return "noexec";
  return e.type !== "file" || executableFormat(e.hostPath) ? "ok" : "format";
}

const WHY: Record<Exclude<Probe, "ok" | "missing">, string> = { dir: "is a directory", noexec: "permission denied", format: "exec format error" };

/**
 * Checks that argv0 names an executable in the rootfs. `mountedPrefixes` are container
 * paths whose contents come from mounts made at run time (/dev, RUN --mount targets …);
 * commands below them cannot be checked beforehand and are left to the exec.
 */
export async function checkExecutable(rootfs: RootfsAccess, argv0: string, env: readonly string[], cwd: string, mountedPrefixes: readonly string[]): Promise<void> {
  const underMount = (p: string) => mountedPrefixes.some((m) => isWithin(m, p));
  if (argv0.includes("/")) {
    const p = cleanPath(argv0.startsWith("/") ? argv0 : `${cwd}/${argv0}`);
    if (underMount(p)) return;
    const r = await probe(rootfs, p);
    if (r === "ok") return;
    throw new SandboxError("EXEC", `exec: "${argv0}": ${r === "missing" ? `stat ${argv0}: no such file or directory` : WHY[r]}`);
  }
  const path = envValue(env, "PATH") ?? DEFAULT_PATH;
  for (const dir of path.split(":")) {
    const p = cleanPath(`${dir === "" ? cwd : dir.startsWith("/") ? dir : `${cwd}/${dir}`}/${argv0}`);
    if (underMount(p)) return;
    const r = await probe(rootfs, p);
    if (r === "ok") return;
    if (r === "format") throw new SandboxError("EXEC", `exec: "${argv0}": ${WHY[r]}`);
  }
  throw new SandboxError("EXEC", `exec: "${argv0}": executable file not found in $PATH`);
}

/** The value of NAME in env (the last entry wins), or undefined. */
export function envValue(env: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (const e of env) if (e.startsWith(name + "=")) v = e.slice(name.length + 1);
  return v;
}
