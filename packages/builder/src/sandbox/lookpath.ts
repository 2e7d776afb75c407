// Finds the command of a RUN in the rootfs before anything starts, the way runc's
// exec.LookPath does inside the container, so that a missing executable is reported as
// the sandbox error BuildKit shows ("executable file not found in $PATH") instead of
// surfacing as an ambiguous exit code 127 from a helper program.
import { cleanPath, isWithin } from "../fs/container-path.js";
import { SandboxError } from "./errors.js";
import type { RootfsAccess } from "./rootfs-access.js";

/** BuildKit's PATH when the image sets none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

type Probe = "ok" | "missing" | "dir" | "noexec";

async function probe(rootfs: RootfsAccess, p: string): Promise<Probe> {
  const resolved = await rootfs.resolve(p);
  const e = rootfs.lstat(resolved);
  if (e === undefined) return "missing";
  if (e.type === "dir") return "dir";
  return (e.mode & 0o111) !== 0 ? "ok" : "noexec";
}

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
    const why = r === "missing" ? `stat ${argv0}: no such file or directory` : r === "dir" ? "is a directory" : "permission denied";
    throw new SandboxError("EXEC", `exec: "${argv0}": ${why}`);
  }
  const path = envValue(env, "PATH") ?? DEFAULT_PATH;
  for (const dir of path.split(":")) {
    const p = cleanPath(`${dir === "" ? cwd : dir.startsWith("/") ? dir : `${cwd}/${dir}`}/${argv0}`);
    if (underMount(p)) return;
    if ((await probe(rootfs, p)) === "ok") return;
  }
  throw new SandboxError("EXEC", `exec: "${argv0}": executable file not found in $PATH`);
}

/** The value of NAME in env (the last entry wins), or undefined. */
export function envValue(env: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (const e of env) if (e.startsWith(name + "=")) v = e.slice(name.length + 1);
  return v;
}
