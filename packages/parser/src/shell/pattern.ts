// Shell glob patterns for `${v#p}`, `${v%p}` and `${v/p/r}`, with the exact
// semantics BuildKit gets from translating them to Go regular expressions:
// `*` is `.*` (or `.*?` for the shortest forms), `?` is `.`, and Go's `.` does
// not match a newline. Matching follows leftmost-first (backtracking) priority,
// computed with a table instead of backtracking so that hostile patterns such
// as `*a*a*a*a*b` stay O(pattern × value).

const STAR = -2;
const ANY = -1;
const NL = 0x0a;

/** A compiled pattern: code points (literals), ANY (`?`) or STAR (`*`). */
export type PatternAtoms = number[];

/** Thrown for an invalid escape in a pattern; the caller adds context. */
export class PatternError extends Error {}

/** Compiles a pattern word (escapes still raw) into atoms, validating escapes as BuildKit does. */
export function compilePattern(pattern: string): PatternAtoms {
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0) as number);
  // Go's text/scanner skips a byte order mark at the very start of its input.
  let i = cps.length > 0 && cps[0] === 0xfeff ? 1 : 0;
  const out: number[] = [];
  while (i < cps.length) {
    const tok = cps[i++];
    if (tok === 0x2a) out.push(STAR);
    else if (tok === 0x3f) out.push(ANY);
    else if (tok === 0x5c) {
      const next = i < cps.length ? cps[i] : -1;
      // `\}` and `\/` protect the delimiters of ${…}; the backslash is not part of the pattern.
      if (next === 0x7d || next === 0x2f) continue;
      if (next !== 0x2a && next !== 0x3f && next !== 0x5c) {
        const shown = next < 0 ? "\uFFFD" : String.fromCodePoint(next);
        throw new PatternError(`invalid escape '\\${shown}'`);
      }
      out.push(next);
      i++;
    } else out.push(tok);
  }
  return out;
}

/**
 * For every start index s of `value`, the end index of the highest-priority
 * match of `atoms` anchored at s, or -1. `greedy` selects `.*` over `.*?`.
 */
// Matching costs pattern length × value length; refuse absurd sizes instead of hanging.
const MAX_MATCH_COST = 2e8;

function matchEnds(atoms: PatternAtoms, value: number[], greedy: boolean): Int32Array {
  const n = value.length;
  if (atoms.length * (n + 1) > MAX_MATCH_COST) {
    throw new PatternError(`pattern of ${atoms.length} characters is too costly to match against a value of ${n} characters`);
  }
  let next = new Int32Array(n + 1);
  let row = new Int32Array(n + 1);
  for (let s = 0; s <= n; s++) next[s] = s;
  for (let p = atoms.length - 1; p >= 0; p--) {
    const a = atoms[p];
    if (a === STAR) {
      row[n] = next[n];
      for (let s = n - 1; s >= 0; s--) {
        const more = value[s] !== NL ? row[s + 1] : -1;
        row[s] = greedy ? (more >= 0 ? more : next[s]) : next[s] >= 0 ? next[s] : more;
      }
    } else {
      row[n] = -1;
      for (let s = 0; s < n; s++) {
        const c = value[s];
        row[s] = (a === ANY ? c !== NL : c === a) ? next[s + 1] : -1;
      }
    }
    const t = next;
    next = row;
    row = t;
  }
  return next;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0) as number);
  return out;
}

function fromCodePoints(cps: number[], from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i += 4096) out += String.fromCodePoint(...cps.slice(i, Math.min(to, i + 4096)));
  return out;
}

/** `${v#p}` / `${v##p}`: removes the shortest (or longest) matching prefix. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const atoms = compilePattern(pattern);
  const v = codePoints(value);
  const end = matchEnds(atoms, v, greedy)[0];
  return end >= 0 ? fromCodePoints(v, end, v.length) : value;
}

/** `${v%p}` / `${v%%p}`: removes the shortest (or longest) matching suffix. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Like BuildKit: reverse both and trim a prefix, so that "shortest" is leftmost.
  const atoms = compilePattern(pattern).reverse();
  const v = codePoints(value).reverse();
  const end = matchEnds(atoms, v, greedy)[0];
  if (end < 0) return value;
  return fromCodePoints(v.slice(end).reverse(), 0, v.length - end);
}

/** `${v/p/r}` and `${v//p/r}` (unanchored, greedy `*`). */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const atoms = compilePattern(pattern);
  const v = codePoints(value);
  const ends = matchEnds(atoms, v, true);
  const n = v.length;
  if (!all) {
    for (let s = 0; s <= n; s++) {
      if (ends[s] >= 0) return fromCodePoints(v, 0, s) + replacement + fromCodePoints(v, ends[s], n);
    }
    return value;
  }
  // Go's Regexp.ReplaceAllString: successive non-overlapping matches; an empty
  // match right after a previous match is skipped; `$` templates expand.
  let out = "";
  let lastEnd = 0;
  let search = 0;
  while (search <= n) {
    let s = search;
    while (s <= n && ends[s] < 0) s++;
    if (s > n) break;
    const e = ends[s];
    out += fromCodePoints(v, lastEnd, s);
    if (e > lastEnd || s === 0) out += expandTemplate(replacement, fromCodePoints(v, s, e));
    lastEnd = e;
    search = e > search ? e : search + 1;
  }
  return out + fromCodePoints(v, lastEnd, n);
}

function isNameChar(cp: number): boolean {
  return cp === 0x5f || /[\p{L}\p{Nd}]/u.test(String.fromCodePoint(cp));
}

/** Go's Regexp.Expand for a pattern without groups: `$0`/`${0}` is the match, `$$` is `$`. */
export function expandTemplate(template: string, match: string): string {
  let out = "";
  let t = template;
  for (;;) {
    const i = t.indexOf("$");
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t.startsWith("$")) {
      out += "$";
      t = t.slice(1);
      continue;
    }
    const brace = t.startsWith("{");
    let j = brace ? 1 : 0;
    const nameStart = j;
    while (j < t.length) {
      const cp = t.codePointAt(j) as number;
      if (!isNameChar(cp)) break;
      j += cp > 0xffff ? 2 : 1;
    }
    const name = t.slice(nameStart, j);
    if (name === "" || (brace && t[j] !== "}")) {
      out += "$"; // malformed: the dollar is literal text
      continue;
    }
    t = t.slice(brace ? j + 1 : j);
    // Only group 0 exists; `$1`, `$name`… expand to nothing, `$00` is a (missing) name.
    if (name === "0") out += match;
  }
  return out + t;
}
