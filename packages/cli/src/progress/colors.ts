// Colour decisions for stderr output. chalk's own detection looks at stdout and
// ignores NO_COLOR (https://no-color.org), so the level is computed here.

import type { ProgressStream } from "./renderer.js";

/** 0 (no colour) … 3 (truecolor) for `stream`, honouring NO_COLOR and FORCE_COLOR. */
export function colorLevel(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === "" || force === "true") return 1;
    if (force === "false" || force === "0") return 0;
    const n = Number.parseInt(force, 10);
    if (n >= 1 && n <= 3) return n as 1 | 2 | 3;
  }
  if (!stream.isTTY || env.TERM === "dumb") return 0;
  if (env.COLORTERM === "truecolor" || env.COLORTERM === "24bit") return 3;
  if (/-256(color)?$/i.test(env.TERM ?? "")) return 2;
  return 1;
}
