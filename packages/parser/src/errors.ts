/** Where a syntax error points: 1-based line and column in a named file. */
export interface ErrorLocation {
  file: string;
  line: number;
  column: number;
  /** The text of the offending physical line (without its line ending). */
  sourceLine: string;
  /** Last line of the offending instruction when it spans several lines. */
  endLine?: number;
}

/**
 * A user error in a Dockerfile: bad syntax, an unknown instruction, a malformed
 * flag, an invalid stage reference… `message` is the one-line form
 * `Dockerfile:12:5: unknown instruction: FOOBAR`; `reason` is the text after the
 * location; `format()` adds the offending line and a caret under the column.
 */
export class DockerfileSyntaxError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly sourceLine: string;
  readonly endLine: number;
  readonly reason: string;

  constructor(reason: string, loc: ErrorLocation) {
    super(`${loc.file}:${loc.line}:${loc.column}: ${reason}`);
    this.name = "DockerfileSyntaxError";
    this.reason = reason;
    this.file = loc.file;
    this.line = loc.line;
    this.column = loc.column;
    this.sourceLine = loc.sourceLine;
    this.endLine = loc.endLine ?? loc.line;
  }

  /** The multi-line message for users: location and reason, the offending line, and a caret line. */
  format(): string {
    const gutter = String(this.line);
    const pad = " ".repeat(gutter.length);
    // Keep tabs in the caret line so that the caret lands under the right character.
    const before = this.sourceLine.slice(0, Math.max(0, this.column - 1)).replace(/[^\t]/g, " ");
    return `${this.message}\n ${gutter} | ${this.sourceLine}\n ${pad} | ${before}^`;
  }
}

/** Returns the text of 1-based physical line `line` of `source` (empty if out of range). */
export function sourceLineAt(source: string, line: number): string {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = source.indexOf("\n", start);
    if (nl < 0) return "";
    start = nl + 1;
  }
  let end = source.indexOf("\n", start);
  if (end < 0) end = source.length;
  while (end > start && source.charCodeAt(end - 1) === 0x0d) end--;
  return source.slice(start, end);
}
