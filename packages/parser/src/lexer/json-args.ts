// Exec-form detection: BuildKit accepts the arguments as a JSON array of
// strings when the whole text is valid JSON (Go's encoding/json rules).

import { goTrimLeft, toWellFormed } from "../text/unicode.js";

/** A valid JSON array with a non-string element: a hard parse error upstream. */
export class NotStringArrayError extends Error {
  constructor() {
    super("when using JSON array syntax, arrays must be comprised of strings only");
  }
}

// Go's decoder gives up beyond this nesting depth (and the text then falls back to shell form).
const GO_MAX_DEPTH = 10000;

/**
 * Returns the string elements if `rest` is a JSON array of strings, undefined if
 * it is not JSON (the caller falls back to the plain form), and throws
 * NotStringArrayError for a valid array holding something other than strings.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = goTrimLeft(rest);
  if (text.charCodeAt(0) !== 0x5b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  let allStrings = true;
  for (const el of value) {
    if (typeof el !== "string") {
      allStrings = false;
      break;
    }
  }
  if (allStrings) {
    const arr = value as string[];
    // Go decodes lone surrogate escapes to U+FFFD; only rebuild the array when one occurs.
    for (let i = 0; i < arr.length; i++) arr[i] = toWellFormed(arr[i]);
    return arr;
  }
  if (!decodesInGo(value)) return undefined;
  throw new NotStringArrayError();
}

/**
 * Whether Go's json.Unmarshal into []any would succeed: it fails on numbers
 * outside the float64 range and on nesting deeper than 10000 levels.
 */
function decodesInGo(root: unknown[]): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: root, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v === "number" && !Number.isFinite(v)) return false;
    if (v !== null && typeof v === "object") {
      if (depth > GO_MAX_DEPTH) return false;
      const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      for (const c of children) stack.push({ v: c, depth: depth + 1 });
    }
  }
  return true;
}
