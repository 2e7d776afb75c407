// Finds the shared conformance data (never copied into the repository).

import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The conformance data directory: $TBUILD_CONFORMANCE_DIR if set, otherwise
 * `shared/conformance` next to the repository checkout (…/main → …/shared),
 * found by walking up from this file (works from src/ and from dist/).
 */
export function conformanceDir(): string {
  const fromEnv = process.env.TBUILD_CONFORMANCE_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, "../shared/conformance");
    if (existsSync(resolve(candidate, "buildkit-parser"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    "conformance data not found: set TBUILD_CONFORMANCE_DIR or place it at ../shared/conformance relative to the repository",
  );
}
