// Where a word of an instruction is in the source. The IR keeps words, not their
// positions; errors about one word (an unterminated quote, a missing COPY source) find it
// again in the instruction's text, walking the logical line the way the lexer builds it
// (continuation escapes removed, comment and blank lines inside a continuation skipped).

import type { InstructionBase } from "./types.js";

/** A 1-based position in the Dockerfile with the text of its physical line. */
export interface SourcePosition {
  line: number;
  column: number;
  sourceLine: string;
}

interface Logical {
  text: string;
  /** Source position of each character of `text`. */
  at: { line: number; column: number }[];
  /** Physical lines by line number. */
  lines: Map<number, string>;
}

/** The instruction's logical line (up to its heredoc bodies) with the source position of each character. */
function logicalLine(inst: InstructionBase, escape: string): Logical {
  const physical = inst.text.split("\n").map((l) => l.replace(/\r$/, ""));
  const out: Logical = { text: "", at: [], lines: new Map() };
  for (let i = 0; i < physical.length; i++) {
    const line = inst.range.start.line + i;
    // The first line of `text` starts at the keyword; the rest are whole physical lines.
    const indent = i === 0 ? inst.range.start.column - 1 : 0;
    const raw = physical[i]!;
    out.lines.set(line, " ".repeat(indent) + raw);
    if (i > 0 && (raw.trim() === "" || raw.trimStart().startsWith("#"))) continue;
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === " " || raw[end - 1] === "\t")) end--;
    const continues = end > 0 && raw[end - 1] === escape && (end === 1 || raw[end - 2] !== escape);
    const keep = continues ? end - 1 : raw.length;
    for (let c = 0; c < keep; c++) {
      out.text += raw[c];
      out.at.push({ line, column: indent + c + 1 });
    }
    if (!continues) break;
  }
  return out;
}

/**
 * Finds the raw words `words` (as the IR holds them, unexpanded) in order in the
 * instruction's source, each starting after the previous one and on a word boundary, and
 * returns the position of character `offset` of the last one. Undefined when a word is
 * not found as written (then callers point at the instruction).
 */
export function locateWord(inst: InstructionBase, words: readonly string[], offset: number, escape = "\\"): SourcePosition | undefined {
  if (words.length === 0) return undefined;
  const logical = logicalLine(inst, escape);
  const text = logical.text;
  let cursor = inst.keyword.length;
  let found = -1;
  for (const word of words) {
    if (word === "") return undefined;
    found = -1;
    for (let i = text.indexOf(word, cursor); i >= 0; i = text.indexOf(word, i + 1)) {
      // A word of the instruction starts after white space or `=` (ENV/LABEL/ARG key=value).
      const before = text[i - 1];
      if (before === " " || before === "\t" || before === "=") {
        found = i;
        break;
      }
    }
    if (found < 0) return undefined;
    cursor = found + word.length;
  }
  const pos = logical.at[found + offset];
  if (!pos) return undefined;
  return { ...pos, sourceLine: logical.lines.get(pos.line) ?? "" };
}
