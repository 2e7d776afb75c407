// Durations in Go's syntax (`24h`, `1h30m`, `90s`, `500ms`), as docker's
// `--filter until=…` takes them, plus `d` and `w` because users type them.

import { UsageError } from "../errors.js";

const unitMs: Record<string, number> = {
  ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

/** Parses a duration into milliseconds. A bare `0` is allowed, as in Go. */
export function parseDuration(text: string, flag = "duration"): number {
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== s.length) {
    throw new UsageError(`${flag}: invalid duration ${JSON.stringify(text)} (examples: 24h, 90m, 1h30m, 7d)`);
  }
  return total;
}

/**
 * Parses a `until=` value into an absolute cut-off time (ms since the epoch): either a
 * duration before `now`, or an RFC 3339 timestamp / date, or Unix seconds, as docker allows.
 */
export function parseUntil(text: string, now: number, flag = "--filter until"): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s) && s !== "0") return Number(s) * 1000;
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw new UsageError(`${flag}: invalid timestamp ${JSON.stringify(text)}`);
    return t;
  }
  return now - parseDuration(s, flag);
}
