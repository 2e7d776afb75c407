// BuildKit's quote-preserving word splitter (parseWords), used for ARG, ENV
// and LABEL. Quotes and escapes stay in the words; they are removed later by
// shell-word expansion.

import { isGoSpace } from "../text/unicode.js";

/** Splits on unquoted Go white space, keeping quote and escape characters in the words. */
export function parseWords(rest: string, esc: number): string[] {
  const words: string[] = [];
  const n = rest.length;
  let pos = 0;
  for (;;) {
    while (pos < n && isGoSpace(rest.charCodeAt(pos))) pos++;
    if (pos >= n) return words;
    const start = pos;
    let blankOK = false;
    let quote = 0;
    // Pieces are appended only when a trailing escape character must be dropped.
    let dropped = -1;
    while (pos < n) {
      const c = rest.charCodeAt(pos);
      if (quote === 0) {
        if (isGoSpace(c)) break;
        if (c === 0x27 || c === 0x22) {
          quote = c;
          blankOK = true;
          pos++;
          continue;
        }
        if (c === esc) {
          if (pos + 1 === n) {
            dropped = pos;
            pos++;
            continue;
          }
          // The escape and the escaped character are both kept.
          pos += 2;
          continue;
        }
        pos++;
      } else {
        if (c === quote) {
          quote = 0;
          pos++;
          continue;
        }
        if (c === esc && quote !== 0x27) {
          if (pos + 1 === n) {
            dropped = pos;
            quote = 0;
            pos++;
            continue;
          }
          pos += 2;
          continue;
        }
        pos++;
      }
    }
    const word = dropped >= 0 ? rest.slice(start, dropped) : rest.slice(start, pos);
    if (blankOK || word.length > 0) words.push(word);
  }
}
