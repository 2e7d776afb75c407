// The Dockerfile excerpt under a failed step, as BuildKit prints it:
//
//   Dockerfile:3
//   --------------------
//      1 |     FROM base
//      2 |     COPY . .
//      3 | >>> RUN make \
//      4 | >>>     install
//      5 |     CMD ["app"]
//   --------------------

/**
 * Formats lines around `line` (1-based) of `text`: the instruction starting there,
 * continuation lines included, is marked with `>>>`, with `context` lines either side.
 * Returns undefined when `line` is outside the file. `at` (a word's position) replaces the
 * header's line range with that file:line:column.
 */
export function dockerfileExcerpt(text: string, line: number, name = "Dockerfile", context = 2, at?: { line: number; column: number }): string | undefined {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  if (text.endsWith("\n")) lines.pop();
  if (line < 1 || line > lines.length) return undefined;
  const escape = escapeChar(lines);
  let last = line;
  while (last < lines.length && endsWithContinuation(lines[last - 1]!, escape)) last++;
  const from = Math.max(1, line - context);
  const to = Math.min(lines.length, last + context);
  const width = Math.max(4, String(to).length);
  const rule = "-".repeat(20);
  // With the word the error is about, the header is its file:line:column (BuildKit prints only lines).
  const header = at ? `${name}:${at.line}:${at.column}` : `${name}:${line}${last > line ? `-${last}` : ""}`;
  const out = [header, rule];
  for (let n = from; n <= to; n++) {
    const marker = n >= line && n <= last ? ">>>" : "   ";
    out.push(`${String(n).padStart(width)} | ${marker} ${lines[n - 1]}`.trimEnd());
  }
  out.push(rule);
  return out.join("\n");
}

/** The `# escape=` parser directive, when it is among the file's leading comments. */
function escapeChar(lines: string[]): string {
  for (const l of lines) {
    const m = /^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(l);
    if (!m) break;
    if (m[1]!.toLowerCase() === "escape") return m[2]!;
  }
  return "\\";
}

function endsWithContinuation(line: string, escape: string): boolean {
  return !/^\s*#/.test(line) && line.trimEnd().endsWith(escape);
}
