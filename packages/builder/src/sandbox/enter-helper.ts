// Where tbuild-enter (native/tbuild-enter.c) is. `npm run build` compiles it into
// packages/builder/native/ and copies it next to the CLI bundle; the lookup walks up from
// this module (src/sandbox, dist/sandbox or the bundle dir) to the first native/ that has
// it. TBUILD_ENTER names another file.
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxError } from "./errors.js";

let found: string | undefined;

/** The absolute path of the tbuild-enter binary; throws a SandboxError when it was not built. */
export function enterHelper(): string {
  if (found) return found;
  const candidates: string[] = [];
  if (process.env.TBUILD_ENTER) candidates.push(process.env.TBUILD_ENTER);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    candidates.push(path.join(dir, "native", "tbuild-enter"));
    dir = path.dirname(dir);
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      found = c;
      return c;
    } catch {
      // next
    }
  }
  throw new SandboxError(
    "UNAVAILABLE",
    `the sandbox helper tbuild-enter has not been built (looked in ${candidates.join(", ")}); run "npm run build" with gcc and libseccomp-dev installed (Debian packages "gcc" and "libseccomp-dev"), or use the runc executor`,
  );
}
