// `--build-arg K[=V]` and `--label K[=V]`, with docker's rules.

import { UsageError } from "../errors.js";

/**
 * Folds `--build-arg` values into a record. `K=V` sets K; a bare `K` takes K's value
 * from `env` and is left out when K is unset there (docker's behaviour: the
 * Dockerfile's ARG default then applies). Later flags win.
 */
export function parseBuildArgs(values: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === "" || /\s/.test(key)) throw new UsageError(`--build-arg: invalid argument name in ${JSON.stringify(v)}`);
    // A name no Dockerfile word can refer to ($NAME needs a letter or _ first) is a slip, most
    // often the context path taken as the flag's value (`--build-arg .`): say so, do not drop it.
    if (!/^[A-Za-z_]/.test(key)) {
      const hint = eq === -1 && /^[.~/]/.test(v) ? "; it looks like a path: the build context goes after the flags, e.g. --build-arg NAME=VALUE ." : "";
      throw new UsageError(`--build-arg: ${JSON.stringify(v)} is not NAME=VALUE or NAME (a name starts with a letter or _)${hint}`);
    }
    if (eq !== -1) out[key] = v.slice(eq + 1);
    else if (env[key] !== undefined) out[key] = env[key]!;
    else delete out[key];
  }
  return out;
}

/** Folds `--label K[=V]` values into a record; a bare `K` is an empty label, as in docker. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === "") throw new UsageError(`--label: missing key in ${JSON.stringify(v)}`);
    out[key] = eq === -1 ? "" : v.slice(eq + 1);
  }
  return out;
}
