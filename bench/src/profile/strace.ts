// Reads `strace -f -c -o FILE` output: the syscall table sorted by time, top rows.

import { readFileSync } from "node:fs";

/** The header and the first `top` rows of the strace -c table, plus its total line. */
export function straceSummary(file: string, top = 12): string {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  const head = lines.findIndex((l) => l.includes("% time"));
  if (head < 0) return lines.slice(0, top).join("\n");
  const rows = lines.slice(head + 2).filter((l) => !l.startsWith("------") && !l.includes(" total"));
  const total = lines.find((l) => /\stotal\s*$/.test(l)) ?? "";
  return [lines[head]!, ...rows.slice(0, top), total].map((l) => `    ${l}`).join("\n");
}
