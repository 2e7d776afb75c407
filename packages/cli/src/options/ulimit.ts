// `--ulimit name=soft[:hard]` as docker build takes it (go-units ParseUlimit): the names
// of Docker's ulimits, -1 for unlimited, hard defaulting to soft and never below it.

import type { Ulimit } from "../builder-api.js";
import { UsageError } from "../errors.js";

const NAMES = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"];

function value(text: string, spec: string): number | "unlimited" {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--ulimit ${spec}: ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (n === -1) return "unlimited";
  if (n < 0 || !Number.isSafeInteger(n)) throw new UsageError(`--ulimit ${spec}: ${text} is out of range`);
  return n;
}

/** Parses one --ulimit value. */
export function parseUlimit(spec: string): Ulimit {
  const m = /^([a-z]+)=([^:]+)(?::(.+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`--ulimit ${spec}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const name = m[1]!;
  if (!NAMES.includes(name)) throw new UsageError(`--ulimit ${spec}: unknown limit ${name} (one of ${NAMES.join(", ")})`);
  const soft = value(m[2]!, spec);
  const hard = m[3] === undefined ? soft : value(m[3], spec);
  const n = (v: number | "unlimited") => (v === "unlimited" ? Infinity : v);
  if (n(soft) > n(hard)) throw new UsageError(`--ulimit ${spec}: the soft limit is above the hard limit`);
  return { name, soft, hard };
}
