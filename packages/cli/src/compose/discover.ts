// Finding the compose file the way `docker compose` does: the first of the
// standard names in the working directory, else in its parents.

import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CommandError } from "../errors.js";

/** The file names docker compose looks for, in its order of preference. */
export const composeFileNames = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"] as const;

/**
 * Returns the absolute path of the compose file for `cwd`: `explicit` if given (relative
 * to `cwd`), else the first standard name found in `cwd` or the nearest parent.
 */
export function findComposeFile(cwd: string, explicit?: string): string {
  if (explicit !== undefined) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new CommandError(`compose file ${explicit} not found`);
    if (!statSync(p).isFile()) throw new CommandError(`compose file ${explicit} is not a file`);
    return p;
  }
  let dir = resolve(cwd);
  for (;;) {
    for (const name of composeFileNames) {
      const p = join(dir, name);
      if (existsSync(p) && statSync(p).isFile()) return p;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new CommandError(`no compose file found in ${resolve(cwd)} or its parents (looked for ${composeFileNames.join(", ")})`);
}

/** Compose's project-name normalisation: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, "").replace(/^[^a-z0-9]+/, "");
}
