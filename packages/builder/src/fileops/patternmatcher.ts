// The pattern matcher BuildKit uses for COPY --exclude and for the include patterns of
// COPY --parents (moby/patternmatcher semantics): patterns are cleaned like Go's
// filepath.Clean, `*`/`?`/`[…]` never cross `/`, `**` matches any number of components
// (including none), a leading `!` re-includes, the last matching pattern wins, and a path
// matches when it or one of its parent directories does.
import { BadPatternError, goMatch } from "@tbuild/cache";

/** Go's filepath.Clean for relative or absolute slash paths ("" → "."). */
export function goClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
    } else out.push(part);
  }
  const joined = out.join("/");
  return rooted ? "/" + joined : joined || ".";
}

const REGEX_SPECIAL = new Set([".", "+", "(", ")", "|", "{", "}", "$", "^"]);
const REGEX_SYNTAX = new Set([..."^$\\.*+?()[]{}|/"]);

/** A character matched literally, escaped only where the regex syntax (unicode mode) needs it. */
function escapeLiteral(ch: string, inClass: boolean): string {
  return REGEX_SYNTAX.has(ch) || (inClass && ch === "-") ? "\\" + ch : ch;
}

interface Pattern {
  text: string;
  exclusion: boolean;
  regex: RegExp;
}

function compile(text: string): RegExp {
  let re = "^";
  const chars = [...text];
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*" && !inClass) {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        // "**" at the end accepts everything below; elsewhere it eats any number of components.
        re += i + 1 >= chars.length ? ".*" : "(.*/)?";
      } else re += "[^/]*";
    } else if (ch === "?" && !inClass) {
      re += "[^/]";
    } else if (ch === "\\") {
      const next = chars[i + 1];
      if (next === undefined) re += "\\\\";
      else {
        i++;
        re += escapeLiteral(next, inClass);
      }
    } else if (ch === "[" && !inClass) {
      inClass = true;
      re += "[";
    } else if (ch === "]" && inClass) {
      inClass = false;
      re += "]";
    } else if (!inClass && REGEX_SPECIAL.has(ch)) {
      re += "\\" + ch;
    } else {
      re += ch;
    }
  }
  return new RegExp(re + "$", "u");
}

/** The result of matching a directory, passed down to its children. */
export type MatchInfo = readonly boolean[] | undefined;

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  /** True when some pattern starts with `!`: excluded directories must still be walked. */
  readonly hasExclusions: boolean;

  constructor(patterns: readonly string[]) {
    let exclusions = false;
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === "") continue;
      p = goClean(p);
      let exclusion = false;
      if (p.startsWith("!")) {
        if (p.length === 1) throw new BadPatternError(raw);
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      goMatch(p, "."); // syntax check, as filepath.Match would report it
      this.patterns.push({ text: p, exclusion, regex: compile(p) });
    }
    this.hasExclusions = exclusions;
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * Whether slash path `file` matches, given the per-pattern results of its parent directory
   * (undefined: unknown, so the parents are checked here). Returns the results to pass to
   * the children of `file`.
   */
  matches(file: string, parent: MatchInfo): { matched: boolean; info: boolean[] } {
    let matched = false;
    const info: boolean[] = new Array(this.patterns.length).fill(false);
    this.patterns.forEach((pattern, i) => {
      let match = parent !== undefined && parent[i] === true;
      if (!match) {
        // An inclusion that already matched, or an exclusion with nothing to undo, is settled.
        if (pattern.exclusion !== matched) return;
        match = pattern.regex.test(file);
        if (!match && parent === undefined) {
          const dirs = file.split("/").slice(0, -1);
          for (let j = 1; j <= dirs.length && !match; j++) match = pattern.regex.test(dirs.slice(0, j).join("/"));
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info };
  }
}
