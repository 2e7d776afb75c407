// Host programs the executors drive (Node has no mount, unshare or setns calls). They are
// looked up once per process; absolute paths go into the setup scripts so that the
// command's PATH never decides which program runs as root on the host side.
import { accessSync, constants, statSync } from "node:fs";
import { SandboxError } from "./errors.js";

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const found = new Map<string, string | undefined>();

/** The absolute path of executable `name` on the host (system dirs first, then $PATH), or undefined. */
export function findTool(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let hit: string | undefined;
  const dirs = [...SYSTEM_DIRS, ...(process.env.PATH ?? "").split(":").filter((d) => d.startsWith("/"))];
  for (const dir of dirs) {
    const p = `${dir}/${name}`;
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      hit = p;
      break;
    } catch {
      // not here
    }
  }
  found.set(name, hit);
  return hit;
}

/** Like findTool, but throws a SandboxError naming the Debian package to install. */
export function requireTool(name: string, pkg: string): string {
  const p = findTool(name);
  if (p === undefined) {
    throw new SandboxError("UNAVAILABLE", `the sandbox needs the host program "${name}", which is not installed; install the Debian package "${pkg}"`);
  }
  return p;
}

/** The util-linux programs both executors use. */
export interface CoreTools {
  unshare: string;
  mount: string;
  sh: string;
}

/** The tools every executor needs; throws a clear error when one is missing. */
export function coreTools(): CoreTools {
  return {
    unshare: requireTool("unshare", "util-linux"),
    mount: requireTool("mount", "mount"),
    sh: requireTool("sh", "dash"),
  };
}
