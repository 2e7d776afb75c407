// The CLI's own version, read from its package.json on demand (a JSON import would
// print an ExperimentalWarning on Node 20).

import { readFileSync } from "node:fs";

/** The version in @tbuild/cli's package.json, or "unknown" if it cannot be read. */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
