// Our native addons (each package's native/*.c, compiled by `npm run build` when gcc and Node's
// headers are there, and copied beside the CLI bundle): found in a native/ directory at or
// above the module asking (dist/<dir>/ → the package's native/, or the bundle's), else absent,
// and the caller does without (each has a slower fallback). TBUILD_NO_ADDONS=1 says absent.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The addon `file` (e.g. "xattrs.node") seen from the module at `moduleUrl`, or undefined. */
export function loadNativeAddon<T>(file: string, moduleUrl: string): T | undefined {
  if (process.env.TBUILD_NO_ADDONS === "1") return undefined;
  const req = createRequire(moduleUrl);
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 3; i++, dir = path.dirname(dir)) {
    try {
      return req(path.join(dir, "native", file)) as T;
    } catch {
      // not here
    }
  }
  return undefined;
}
