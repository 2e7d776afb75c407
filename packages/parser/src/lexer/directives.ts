// Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) at the top of a
// Dockerfile. Scanning stops for good at the first line that is not one.

import type { Directive } from "../ast.js";
import { goTrimLeft } from "../text/unicode.js";

// Go: ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ where \s is [\t\n\f\r ] and . excludes only \n.
const directiveRe = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;

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
    const m = directiveRe.exec(goTrimLeft(line.slice(1)));
    const key = m ? m[1].toLowerCase() : "";
    if (!m || !known.has(key)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(key)) throw new DirectiveError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const d: Directive = { name: key as Directive["name"], value: m[2], line: lineNo };
    if (d.name === "escape" && d.value !== "`" && d.value !== "\\") {
      throw new DirectiveError(`invalid escape token '${d.value}' does not match \` or \\`);
    }
    this.found.push(d);
    return d;
  }
}
