// Go's strconv.Quote, needed to reproduce BuildKit's AST dump byte for byte.

const printableRe = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Whether Go's unicode.IsPrint accepts the code point (categories L, M, N, P, S and ASCII space). */
export function isGoPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return printableRe.test(String.fromCodePoint(cp));
}

/** Quotes `s` exactly as Go's strconv.Quote does (lower-case hex escapes). */
export function goQuote(s: string): string {
  let out = '"';
  let plainStart = 0;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    // Fast path: printable ASCII other than quote and backslash.
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      i++;
      continue;
    }
    const cp = s.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (cp >= 0x80 && isGoPrint(cp)) esc = undefined;
    else {
      switch (cp) {
        case 0x07: esc = "\\a"; break;
        case 0x08: esc = "\\b"; break;
        case 0x0c: esc = "\\f"; break;
        case 0x0a: esc = "\\n"; break;
        case 0x0d: esc = "\\r"; break;
        case 0x09: esc = "\\t"; break;
        case 0x0b: esc = "\\v"; break;
        default:
          if (cp < 0x20 || cp === 0x7f) esc = "\\x" + hex(cp, 2);
          else if (cp < 0x10000) esc = "\\u" + hex(cp, 4);
          else esc = "\\U" + hex(cp, 8);
      }
    }
    if (esc !== undefined) {
      out += s.slice(plainStart, i) + esc;
      plainStart = i + width;
    }
    i += width;
  }
  return out + s.slice(plainStart) + '"';
}
