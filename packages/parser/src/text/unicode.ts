// Character classes with Go semantics. BuildKit's parser is written in Go, and
// several of its rules depend on Go's exact definitions (unicode.IsSpace,
// strings.TrimSpace, unicode.IsLetter/IsDigit), which differ from JavaScript's
// `\s` and `String.prototype.trim` (JS counts U+FEFF as space and not U+0085).

/** Go's unicode.IsSpace for a UTF-16 code unit / code point. */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  }
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The separator class `[\t\v\f\r ]` BuildKit uses to split keyword and arguments. */
export function isSplitSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** Index of the first character at or after `from` that is not Go white space. */
export function skipGoSpace(s: string, from = 0): number {
  let i = from;
  const n = s.length;
  while (i < n && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

/** Go strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Go strings.TrimLeftFunc(s, unicode.IsSpace). */
export function goTrimLeft(s: string): string {
  const a = skipGoSpace(s, 0);
  return a === 0 ? s : s.slice(a);
}

/** Splits on runs of `[\t\v\f\r ]`, like Go's reWhitespace.Split(s, -1) on a trimmed string. */
export function splitOnWhitespace(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  let start = 0;
  while (i < n) {
    if (isSplitSpace(s.charCodeAt(i))) {
      out.push(s.slice(start, i));
      while (i < n && isSplitSpace(s.charCodeAt(i))) i++;
      start = i;
    } else {
      i++;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Splits once on the first run of `[\t\v\f\r ]`, like Go's reWhitespace.Split(s, 2). */
export function splitOnceOnWhitespace(s: string): [string] | [string, string] {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    if (isSplitSpace(s.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isSplitSpace(s.charCodeAt(j))) j++;
      return [s.slice(0, i), s.slice(j)];
    }
  }
  return [s];
}

const letterRe = /\p{L}/u;
const digitRe = /\p{Nd}/u;

/** Go unicode.IsLetter for a code point. */
export function isGoLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return letterRe.test(String.fromCodePoint(cp));
}

/** Go unicode.IsDigit (category Nd) for a code point. */
export function isGoDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return digitRe.test(String.fromCodePoint(cp));
}

/** Number of bytes `s` takes in UTF-8 (lone surrogates count as 3, like U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Replaces lone surrogates by U+FFFD, as Go does when it decodes text. */
export function toWellFormed(s: string): string {
  if (!/[\uD800-\uDFFF]/.test(s)) return s;
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}
