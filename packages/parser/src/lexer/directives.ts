// Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) at the top of a
// Dockerfile. Scanning stops for good at the first line that is not one.

import type { Directive } from "../ast.js";
import { goTrimLeft } from "../text/unicode.js";

function isReSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Matches Go's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` (\s = [\t\n\f\r ]) by hand:
 * a regular expression engine that backtracks would take quadratic time on
 * long runs of blanks. Returns [key, value] or undefined.
 */
export function matchDirective(s: string): [string, string] | undefined {
  const n = s.length;
  if (n === 0 || !isAlpha(s.charCodeAt(0))) return undefined;
  let i = 1;
  while (i < n && (isAlpha(s.charCodeAt(i)) || (s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39))) i++;
  const key = s.slice(0, i);
  while (i < n && isReSpace(s.charCodeAt(i))) i++;
  if (i >= n || s.charCodeAt(i) !== 0x3d) return undefined;
  i++;
  const afterEq = i;
  while (i < n && isReSpace(s.charCodeAt(i))) i++;
  let end = n;
  while (end > i && isReSpace(s.charCodeAt(end - 1))) end--;
  // The value needs at least one character; in a blank-only rest the regex backtracks and takes the last blank.
  if (end > i) return s.slice(i, end).includes("\n") ? undefined : [key, s.slice(i, end)];
  return n > afterEq && s.charCodeAt(n - 1) !== 0x0a ? [key, s.slice(n - 1)] : undefined;
}

const known = new Set(["syntax", "escape", "check"]);

/** Thrown for a repeated directive or an invalid escape character. */
export class DirectiveError extends Error {}

/** Tracks the directive block at the top of a file, one line at a time. */
export class DirectiveScanner {
  private done = false;
  private readonly seen = new Set<string>();
  readonly found: Directive[] = [];

  /** Whether scanning has ended (a non-directive line was seen). */
  get finished(): boolean {
    return this.done;
  }

  /**
   * Examines one line (already stripped of its line ending and, for the main
   * parser, of leading white space). Returns the directive if the line is one.
   */
  scan(line: string, lineNo: number): Directive | undefined {
    if (this.done) return undefined;
    if (line.charCodeAt(0) !== 0x23) {
      this.done = true;
      return undefined;
    }
    const m = matchDirective(goTrimLeft(line.slice(1)));
    const key = m ? m[0].toLowerCase() : "";
    if (!m || !known.has(key)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(key)) throw new DirectiveError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const d: Directive = { name: key as Directive["name"], value: m[1], line: lineNo };
    if (d.name === "escape" && d.value !== "`" && d.value !== "\\") {
      throw new DirectiveError(`invalid escape token '${d.value}' does not match \` or \\`);
    }
    this.found.push(d);
    return d;
  }
}
