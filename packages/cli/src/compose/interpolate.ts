// Compose-file variable interpolation, as the compose specification defines it:
// `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
// `${VAR:?message}` / `${VAR?message}` (required), `${VAR:+alt}` / `${VAR+alt}`
// (replacement when set), and `$$` for a literal dollar. Defaults may nest.

import { CommandError } from "../errors.js";

export type Lookup = (name: string) => string | undefined;

export interface InterpolationContext {
  lookup: Lookup;
  /** Called once per unset variable that defaulted to an empty string. */
  onUnset?: (name: string) => void;
  /** Where the value came from (`services.web.build.args`), for error messages. */
  path?: string;
}

const nameStart = /[A-Za-z_]/;
const nameChar = /[A-Za-z0-9_]/;

/** Expands every variable reference in `text`. */
export function interpolate(text: string, ctx: InterpolationContext): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== "$") { out += ch; i++; continue; }
    const next = text[i + 1];
    if (next === "$") { out += "$"; i += 2; continue; }
    if (next === "{") {
      const end = matchingBrace(text, i + 1);
      if (end === -1) throw invalid(text, ctx);
      out += expandBraced(text.slice(i + 2, end), text, ctx);
      i = end + 1;
      continue;
    }
    if (next !== undefined && nameStart.test(next)) {
      let j = i + 1;
      while (j < text.length && nameChar.test(text[j]!)) j++;
      out += valueOf(text.slice(i + 1, j), ctx);
      i = j;
      continue;
    }
    out += "$";
    i++;
  }
  return out;
}

function expandBraced(body: string, whole: string, ctx: InterpolationContext): string {
  let j = 0;
  if (!nameStart.test(body[0] ?? "")) throw invalid(whole, ctx);
  while (j < body.length && nameChar.test(body[j]!)) j++;
  const name = body.slice(0, j);
  const rest = body.slice(j);
  if (rest === "") return valueOf(name, ctx);
  const m = /^(:?)([-?+])/.exec(rest);
  if (!m) throw invalid(whole, ctx);
  const colon = m[1] === ":";
  const arg = rest.slice(m[0].length);
  const value = ctx.lookup(name);
  const present = colon ? value !== undefined && value !== "" : value !== undefined;
  switch (m[2]) {
    case "-":
      return present ? value! : interpolate(arg, ctx);
    case "+":
      return present ? interpolate(arg, ctx) : "";
    default: {
      if (present) return value!;
      const why = interpolate(arg, ctx) || `variable ${name} is ${colon ? "unset or empty" : "unset"}`;
      throw new CommandError(`required variable ${name} is missing a value${ctx.path ? ` (in ${ctx.path})` : ""}: ${why}`);
    }
  }
}

function valueOf(name: string, ctx: InterpolationContext): string {
  const v = ctx.lookup(name);
  if (v === undefined) {
    ctx.onUnset?.(name);
    return "";
  }
  return v;
}

/** Index of the `}` closing the `{` at `open`, counting nested `${…}`; -1 if none. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

function invalid(text: string, ctx: InterpolationContext): CommandError {
  return new CommandError(`invalid interpolation format${ctx.path ? ` for ${ctx.path}` : ""}: ${JSON.stringify(text)} (use $$ for a literal dollar sign)`);
}

/**
 * Interpolates every string value (not key) of a parsed YAML document, recursively.
 * Returns a new value; the input is not modified.
 */
export function interpolateTree(value: unknown, ctx: InterpolationContext, path = ""): unknown {
  if (typeof value === "string") return interpolate(value, { ...ctx, path: path || ctx.path });
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, ctx, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, ctx, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
