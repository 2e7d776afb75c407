// Heredoc detection in RUN/COPY/ADD lines (`<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<EOF`).

import type { RawHeredoc } from "../ast.js";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";

// Go: ^(\d*)<<(-?)\s*([^<]*)$ with ASCII \d and \s = [\t\n\f\r ].
const heredocRe = /^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

const noEnv = { get: () => undefined };
// Heredoc words are always lexed with `\` as the escape, whatever the escape directive says.
const lineLex = new ShellLex("\\", { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
const plainLex = new ShellLex("\\", { skipUnsetEnv: true });
const rawQuoteLex = new ShellLex("\\", { rawQuotes: true, skipUnsetEnv: true });

/** Thrown when a heredoc word cannot be lexed. */
export class HeredocError extends Error {}

/** The heredoc described by one word, or undefined when the word is not a heredoc. */
export function parseHeredocWord(word: string): Omit<RawHeredoc, "content"> | undefined {
  const m = heredocRe.exec(word);
  if (!m || m[3] === "") return undefined;
  const rest = m[3];
  let words: string[];
  let rawWords: string[];
  try {
    words = plainLex.processWords(rest, noEnv).result;
    if (words.length !== 1) return undefined;
    rawWords = rawQuoteLex.processWords(rest, noEnv).result;
  } catch (e) {
    if (e instanceof ShellExpansionError) throw new HeredocError(e.message);
    throw e;
  }
  if (rawWords.length !== words.length) {
    throw new HeredocError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const name = words[0];
  // Quotes that disappear when quotes are processed mean part of the word was quoted.
  const expand = countQuotes(name) === countQuotes(rawWords[0]);
  const out: Omit<RawHeredoc, "content"> = { name, expand, chomp: m[2] === "-" };
  if (m[1] !== "") {
    // Absurdly long numbers saturate (Go's ParseUint returns the maximum on overflow).
    out.fd = Math.min(Number(m[1]), Number.MAX_SAFE_INTEGER);
  }
  return out;
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

/** All heredocs named on a logical line, in order (BuildKit heredocsFromLine). */
export function heredocsFromLine(line: string): Array<Omit<RawHeredoc, "content">> {
  let words: string[];
  try {
    words = lineLex.processWords(line, noEnv).result;
  } catch {
    // Upstream ignores lexing errors here: the line simply has no heredocs.
    return [];
  }
  const docs: Array<Omit<RawHeredoc, "content">> = [];
  for (const w of words) {
    if (w.indexOf("<<") < 0) continue;
    const h = parseHeredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}
