// Splits a logical line into keyword, leading `--flags` and argument text,
// following BuildKit's splitCommand/extractBuilderFlags.

import { goTrimSpace, isGoSpace, isSplitSpace } from "../text/unicode.js";

export interface SplitCommand {
  keyword: string;
  flags: string[];
  /** Argument text after the flags, trimmed. */
  rest: string;
}

/**
 * Reads `--flag` words from the start of `line`. Quotes inside a flag word are
 * removed and the escape character makes the next character literal. Stops at
 * the first word not starting with `--`; a bare `--` ends the flags and is dropped.
 */
const NO_FLAGS: string[] = Object.freeze([]) as unknown as string[];

// Keywords as usually written, shared instead of one copy per instruction.
const KEYWORDS = new Map<string, string>();
for (const k of ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]) {
  KEYWORDS.set(k, k);
  KEYWORDS.set(k.toLowerCase(), k.toLowerCase());
}

export function extractFlags(line: string, esc: number): { rest: string; flags: string[] } {
  let flags = NO_FLAGS;
  const n = line.length;
  let pos = 0;
  for (;;) {
    while (pos < n && isGoSpace(line.charCodeAt(pos))) pos++;
    if (pos >= n) return { rest: "", flags };
    if (line.charCodeAt(pos) !== 0x2d || pos + 1 >= n || line.charCodeAt(pos + 1) !== 0x2d) {
      return { rest: line.slice(pos), flags };
    }
    // Fast path: a flag word without quotes or escapes is a plain slice.
    const wordStart = pos;
    let plainEnd = pos;
    while (plainEnd < n) {
      const c = line.charCodeAt(plainEnd);
      if (c === 0x27 || c === 0x22 || c === esc || isGoSpace(c)) break;
      plainEnd++;
    }
    if (plainEnd === n || isGoSpace(line.charCodeAt(plainEnd))) {
      const w = line.slice(wordStart, plainEnd);
      pos = plainEnd;
      const ended = plainEnd < n;
      if (w === "--") return { rest: ended ? line.slice(pos) : "", flags };
      if (flags === NO_FLAGS) flags = [];
      flags.push(w);
      if (!ended) return { rest: "", flags };
      continue;
    }
    let word = "";
    let blankOK = false;
    let quote = 0;
    let ended = false;
    while (pos < n) {
      let c = line.charCodeAt(pos);
      if (quote === 0) {
        if (isGoSpace(c)) {
          ended = true;
          break;
        }
        if (c === 0x27 || c === 0x22) {
          quote = c;
          blankOK = true;
          pos++;
          continue;
        }
      } else if (c === quote) {
        quote = 0;
        pos++;
        continue;
      }
      if (c === esc) {
        if (pos + 1 === n) {
          // A trailing escape character is dropped (and closes an open quote).
          quote = 0;
          pos++;
          continue;
        }
        pos++;
        c = line.charCodeAt(pos);
      }
      word += String.fromCharCode(c);
      pos++;
    }
    if (word === "--") {
      return { rest: ended ? line.slice(pos) : "", flags };
    }
    if (blankOK || word.length > 0) {
      if (flags === NO_FLAGS) flags = [];
      flags.push(word);
    }
    if (!ended) return { rest: "", flags };
  }
}

/** BuildKit splitCommand: keyword (case kept), flags, and the trimmed rest. */
export function splitCommand(line: string, esc: number): SplitCommand {
  const trimmed = goTrimSpace(line);
  const n = trimmed.length;
  let i = 0;
  while (i < n && !isSplitSpace(trimmed.charCodeAt(i))) i++;
  if (i === n) return { keyword: KEYWORDS.get(trimmed) ?? trimmed, flags: NO_FLAGS, rest: "" };
  const kw = trimmed.slice(0, i);
  const keyword = KEYWORDS.get(kw) ?? kw;
  while (i < n && isSplitSpace(trimmed.charCodeAt(i))) i++;
  const { rest, flags } = extractFlags(trimmed.slice(i), esc);
  return { keyword, flags, rest: goTrimSpace(rest) };
}
