// Go's filepath.Match on Linux, which COPY/ADD use for wildcard sources and --exclude:
// `*` any run of non-`/` characters, `?` one non-`/` character, `[…]`/`[^…]` classes with
// ranges, `\` escaping the next character. A malformed pattern is an error, as in Go.

export class BadPatternError extends Error {
  /** What is malformed (Go says only "syntax error in pattern"; .dockerignore errors say more). */
  constructor(readonly pattern: string, readonly reason: string) {
    super(`syntax error in pattern: ${JSON.stringify(pattern)}`);
    this.name = "BadPatternError";
  }
}

/** Splits off the leading run of `*` and the chunk up to the next unescaped `*` outside a class. */
function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let i = 0;
  while (i < pattern.length && pattern[i] === "*") i++;
  const star = i > 0;
  const start = i;
  let inClass = false;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "*" && !inClass) break;
  }
  return { star, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/** Reads one possibly escaped character of a class; throws on malformed input. */
function classChar(chunk: string[], at: number, pattern: string): { ch: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") throw new BadPatternError(pattern, "bad character class");
  if (chunk[i] === "\\") {
    i++;
    if (i >= chunk.length) throw new BadPatternError(pattern, "trailing backslash in character class");
  }
  const ch = chunk[i]!;
  i++;
  if (i >= chunk.length) throw new BadPatternError(pattern, "unterminated character class");
  return { ch, next: i };
}

/** Matches `chunk` (no `*`) at the start of `s`; returns the rest of `s` or undefined. Checks syntax even on failure. */
function matchChunk(chunk: string[], s: string[], pattern: string): string[] | undefined {
  let failed = false;
  let si = 0;
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i]!;
    if (!failed && si >= s.length) failed = true;
    if (c === "[") {
      const r = failed ? undefined : s[si++];
      i++;
      let negated = false;
      if (i < chunk.length && chunk[i] === "^") {
        negated = true;
        i++;
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (i < chunk.length && chunk[i] === "]" && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(chunk, i, pattern);
        let hi = lo;
        i = lo.next;
        if (chunk[i] === "-") {
          hi = classChar(chunk, i + 1, pattern);
          i = hi.next;
        }
        if (r !== undefined && lo.ch <= r && r <= hi.ch) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (c === "?") {
      if (!failed) {
        if (s[si] === "/") failed = true;
        si++;
      }
      i++;
    } else if (c === "\\") {
      i++;
      if (i >= chunk.length) throw new BadPatternError(pattern, "trailing backslash");
      if (!failed) {
        if (chunk[i] !== s[si]) failed = true;
        si++;
      }
      i++;
    } else {
      if (!failed) {
        if (c !== s[si]) failed = true;
        si++;
      }
      i++;
    }
  }
  return failed ? undefined : s.slice(si);
}

/** Reports whether `name` matches the shell pattern `pattern` (Go filepath.Match). Throws BadPatternError. */
export function goMatch(pattern: string, name: string): boolean {
  let pat = [...pattern];
  let s = [...name];
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !s.includes("/");
    const t = matchChunk(chunk, s, pattern);
    if (t !== undefined && (t.length === 0 || pat.length > 0)) {
      s = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== "/"; i++) {
        const t2 = matchChunk(chunk, s.slice(i + 1), pattern);
        if (t2 !== undefined) {
          if (pat.length === 0 && t2.length > 0) continue;
          s = t2;
          continue outer;
        }
      }
    }
    // No match; still report a malformed remainder as an error, as Go does.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, [], pattern);
    }
    return false;
  }
  return s.length === 0;
}

/** True if `name` holds an unescaped `*`, `?` or `[`. */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/** Splits a clean absolute path at its first component holding a wildcard: the literal base and the pattern below it ("" if none). */
export function splitWildcards(p: string): { base: string; pattern: string } {
  const parts = p.split("/").filter((c) => c !== "");
  const at = parts.findIndex(containsWildcards);
  if (at < 0) return { base: "/" + parts.join("/"), pattern: "" };
  return { base: "/" + parts.slice(0, at).join("/"), pattern: parts.slice(at).join("/") };
}
