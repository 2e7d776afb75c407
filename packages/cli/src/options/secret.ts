// `--secret id=ID[,src=FILE|,env=VAR][,type=file|env]`, as docker buildx reads it.
// With neither src nor env, the secret comes from the environment variable named ID
// (buildx does the same); when that is unset it is a usage error now rather than a
// confusing empty mount later.

import type { SecretSpec } from "../builder-api.js";
import { UsageError } from "../errors.js";
import { parseKeyValueCsv } from "./csv.js";

/** Parses one `--secret` value. `env` is consulted only to resolve the bare `id=X` form. */
export function parseSecretSpec(text: string, env: NodeJS.ProcessEnv = process.env): SecretSpec {
  let id: string | undefined;
  let src: string | undefined;
  let envName: string | undefined;
  let type: "file" | "env" | undefined;
  for (const [k, v] of parseKeyValueCsv(text, "--secret")) {
    switch (k) {
      case "id": id = v; break;
      case "src": case "source": src = v; break;
      case "env": envName = v; break;
      case "type":
        if (v !== "file" && v !== "env") throw new UsageError(`--secret: unknown type ${JSON.stringify(v)} (use file or env)`);
        type = v;
        break;
      default:
        throw new UsageError(`--secret: unknown key ${JSON.stringify(k)} (use id, src, env or type)`);
    }
  }
  if (!id) throw new UsageError(`--secret: missing id= in ${JSON.stringify(text)}`);
  if (type === "env" && envName === undefined) {
    // buildx: with type=env, src names the variable (and defaults to the id).
    envName = src ?? id;
    src = undefined;
  }
  if (src !== undefined && envName !== undefined) {
    throw new UsageError(`--secret ${id}: give either src= or env=, not both`);
  }
  if (src !== undefined) {
    if (src === "") throw new UsageError(`--secret ${id}: empty src=`);
    return { id, src };
  }
  if (envName === undefined) {
    if (type !== "file" && env[id] !== undefined) return { id, env: id };
    throw new UsageError(`--secret ${id}: no src= or env= given and $${id} is not set`);
  }
  if (env[envName] === undefined) throw new UsageError(`--secret ${id}: environment variable $${envName} is not set`);
  return { id, env: envName };
}
