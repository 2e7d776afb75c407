// The user's private runtime directory for tbuild: $XDG_RUNTIME_DIR/tbuild, else
// /tmp/tbuild-<uid>. It holds what only this user may reach: the rootless mode's runtime
// files (rootless.ts) and the warm workers' socket (warm/). tbuild-client.c checks the same
// three things before it sends anything there.
import { lstatSync, mkdirSync } from "node:fs";
import path from "node:path";
import { CommandError } from "./errors.js";

/** The directory's path for `uid`, from the environment (nothing is created). */
export function privateDirPath(uid: number, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_RUNTIME_DIR;
  return base ? path.join(base, "tbuild") : `/tmp/tbuild-${uid}`;
}

/** Creates the directory (0700) or checks an existing one: a directory, owned by `uid`, closed to others. */
export function privateDir(uid: number): string {
  const dir = privateDirPath(uid);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new CommandError(`the runtime directory ${dir} is not a private directory of yours; remove it or set TBUILD_RUNTIME_DIR`);
  }
  return dir;
}
