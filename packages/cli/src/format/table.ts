// Column-aligned tables like the docker CLI's (Go tabwriter with a minimum column
// width of 10 and three spaces of padding).

/** Renders rows under `headers`; every line ends with a newline, trailing spaces trimmed. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], minWidth = 10, padding = 3): string {
  const widths = headers.map((h, i) =>
    Math.max(minWidth, ...[h, ...rows.map((r) => r[i] ?? "")].map((c) => [...c].length + padding)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - [...c].length))).join("").trimEnd() + "\n";
  return line(headers) + rows.map(line).join("");
}
