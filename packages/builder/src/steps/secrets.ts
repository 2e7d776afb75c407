// Build secrets (`--secret id=…,src=FILE|env=VAR`), read only when a step needs their value:
// RUN --mount=type=secret, and ADD <url>'s HTTP auth secrets.
import { promises as fsp } from "node:fs";
import type { BuildSession } from "../solve/session.js";

/** The value of secret `id`, or undefined when the build was not given it (or its variable is unset). */
export async function readSecret(session: BuildSession, id: string): Promise<Buffer | undefined> {
  const s = (session.opts.secrets ?? []).find((x) => x.id === id);
  if (!s) return undefined;
  if (s.src) return fsp.readFile(s.src);
  if (s.env) {
    const v = process.env[s.env];
    return v === undefined ? undefined : Buffer.from(v);
  }
  return undefined;
}
