// Docker's exclude-pattern matcher, with the semantics of github.com/moby/patternmatcher
// (which BuildKit uses for .dockerignore and for COPY --exclude and --parents), reimplemented
// once for both: the context walk here and the builder's COPY/ADD selection use it.
//  - each pattern is trimmed and run through filepath.Clean; "!" marks an exception;
//  - syntax follows filepath.Match (`*`, `?`, `[…]`, `\` escapes) plus `**`;
//  - the last matching pattern wins; a path also matches when a parent directory does;
//  - while walking, a child inherits which patterns its parent matched
//    (MatchesUsingParentResults) — that is what BuildKit's walker does, and it differs
//    from the stand-alone MatchesOrParentMatches in rare cases, so both are offered.
// @balena/dockerignore differs from this in ways that matter (case-insensitive by
// default, no escaping of `+ ( ) | { }`, no fast paths with their exact semantics,
// old parent-matching rules), hence our own implementation.
import { PatternError } from "../errors.js";
import { BadPatternError, goMatch } from "./go-match.js";
import { goClean, goDir, goTrimSpace } from "./go-path.js";
import { goRegexpToJs, RegexpSyntaxError } from "./go-regexp.js";

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

/** Characters patternmatcher escapes because they mean something in a regexp but not in a glob. */
const ESCAPED = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** One compiled pattern. */
export class Pattern {
  readonly cleaned: string;
  readonly exclusion: boolean;
  readonly #type: MatchType;
  readonly #regexp: RegExp | undefined;

  constructor(cleaned: string, exclusion: boolean, source?: string) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
    const shown = exclusion ? `!${cleaned}` : cleaned;
    try {
      goMatch(cleaned, "."); // the syntax check patternmatcher.New makes with filepath.Match
    } catch (e) {
      if (e instanceof BadPatternError) throw new PatternError(shown, e.reason, source);
      throw e;
    }
    const { type, re } = generate(cleaned);
    this.#type = type;
    if (type === "regexp") {
      try {
        this.#regexp = goRegexpToJs(re);
      } catch (e) {
        if (e instanceof RegexpSyntaxError) throw new PatternError(shown, e.message, source);
        throw e;
      }
    }
  }

  /** Whether `path` (slash-separated, relative, clean) matches this pattern by itself. */
  match(path: string): boolean {
    switch (this.#type) {
      case "exact":
        return path === this.cleaned;
      case "prefix":
        return path.startsWith(this.cleaned.slice(0, -2));
      case "suffix": {
        const suffix = this.cleaned.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
      }
      case "regexp":
        return this.#regexp!.test(path);
    }
  }
}

/**
 * The regexp source (Go syntax) and fast-path type patternmatcher derives from a
 * cleaned pattern — including its quirks (e.g. a leading `**` followed by literals
 * is a plain suffix test, so `**foo` matches `barfoo`).
 */
function generate(pattern: string): { type: MatchType; re: string } {
  const cps = Array.from(pattern);
  let re = "^";
  let type: MatchType = "exact";
  for (let i = 0, k = 0; k < cps.length; i++) {
    const ch = cps[k++]!;
    if (ch === "*") {
      if (cps[k] === "*") {
        k++;
        if (cps[k] === "/") k++;
        if (k >= cps.length) {
          if (type === "exact") type = "prefix";
          else {
            re += ".*";
            type = "regexp";
          }
        } else {
          re += "(.*/)?";
          type = "regexp";
        }
        if (i === 0) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (ESCAPED.has(ch)) {
      re += `\\${ch}`;
    } else if (ch === "\\") {
      if (k < cps.length) {
        re += `\\${cps[k++]}`;
        type = "regexp";
      } else {
        re += "\\";
      }
    } else if (ch === "[" || ch === "]") {
      re += ch;
      type = "regexp";
    } else {
      re += ch;
    }
  }
  if (type === "regexp") re += "$";
  return { type, re };
}

/** Which patterns a directory matched; children inherit it while walking. */
export type MatchInfo = readonly boolean[];

/** A list of exclude patterns with Docker's matching rules. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern is an exception (`!…`). */
  readonly hasExclusions: boolean;
  /**
   * True when every exception is a plain path (optionally ending in `/*` or `/**`);
   * then an excluded directory that no exception points into can be skipped whole.
   */
  readonly onlyPrefixExceptions: boolean;

  /** Compiles patterns as patternmatcher.New does (trim, filepath.Clean, "!" prefix). */
  constructor(patterns: readonly string[], source?: string) {
    const list: Pattern[] = [];
    for (const raw of patterns) {
      let p = goTrimSpace(raw);
      if (p === "") continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === "!") {
        if (p.length === 1) throw new PatternError(raw, 'illegal exclusion pattern: "!"', source);
        exclusion = true;
        p = p.slice(1);
      }
      list.push(new Pattern(p, exclusion, source));
    }
    this.patterns = list;
    this.hasExclusions = list.some((p) => p.exclusion);
    this.onlyPrefixExceptions = list.every((p) => !p.exclusion || !/[*[\]?^\\]/.test(withoutTrailingGlob(p)));
  }

  /** True when there are no patterns at all. */
  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether `file` is excluded, checking it and every parent directory against each pattern. */
  matchesOrParentMatches(file: string): boolean {
    let matched = false;
    const parent = goDir(file);
    const parentDirs = parent.split("/");
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = p.match(file);
      if (!m && parent !== ".") {
        for (let i = 0; i < parentDirs.length && !m; i++) m = p.match(parentDirs.slice(0, i + 1).join("/"));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Whether `file` is excluded, given what its parent directory matched (undefined for
   * entries directly under the walk root). Returns the info to pass to its children.
   */
  matchesUsingParentResults(file: string, parent: MatchInfo | undefined): { matched: boolean; info: MatchInfo } {
    const info: boolean[] = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    for (let i = 0; i < this.patterns.length; i++) {
      const p = this.patterns[i]!;
      let m = parent ? parent[i]! : false;
      if (!m) {
        if (p.exclusion !== matched) continue;
        m = p.match(file);
        if (!m && !parent) {
          const dir = goDir(file);
          if (dir !== ".") {
            const dirs = dir.split("/");
            for (let j = 0; j < dirs.length && !m; j++) m = p.match(dirs.slice(0, j + 1).join("/"));
          }
        }
      }
      info[i] = m;
      if (m) matched = !p.exclusion;
    }
    return { matched, info };
  }

  /**
   * For an excluded directory: may its whole subtree be skipped? True unless an
   * exception could re-include something below it (BuildKit's walker optimisation,
   * kept so that the walk visits exactly what BuildKit's does).
   */
  canSkipExcludedDir(dir: string): boolean {
    if (!this.onlyPrefixExceptions) return false;
    if (!this.hasExclusions) return true;
    const dirSlash = `${dir}/`;
    return !this.patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p)}/`.startsWith(dirSlash));
  }
}

function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith("/**")) s = s.slice(0, -3);
  if (s.endsWith("/*")) s = s.slice(0, -2);
  return s;
}
