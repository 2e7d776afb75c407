// Shell-word expansion with BuildKit's semantics (frontend/dockerfile/shell):
// quotes, escapes, `$v`, `${v}` and the `${v<modifier>…}` forms, in a
// single-word mode (processWord) and a word-splitting mode (processWords).
// Written from the behaviour described by BuildKit's lexer and its case tables.

import { goQuote } from "../text/go-quote.js";
import { isGoDigit, isGoLetter, isGoSpace } from "../text/unicode.js";
import { Words } from "./words.js";
import { PatternError, replacePattern, trimPrefix, trimSuffix } from "./pattern.js";

/** Variable values by name; `get` returns undefined for an unset name (a set name may be ""). */
export interface VarLookup {
  get(name: string): string | undefined;
}

/** Lexer modes used inside the parser (heredoc detection, raw expansion of heredoc bodies). */
export interface ShellLexOptions {
  /** Keep quote characters in the output. */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
}

/** A failed expansion (bad substitution, unclosed quote, `${v:?msg}`…). */
export class ShellExpansionError extends Error {
  /** The message without the `failed to process "…"` prefix. */
  readonly reason: string;
  /** For an unterminated quote: the offset of the opening quote in `word`, to point an error at it. */
  readonly quoteOffset?: number;
  constructor(
    readonly word: string,
    reason: string,
    quoteOffset?: number,
  ) {
    super(`failed to process ${goQuote(word)}: ${reason}`);
    this.name = "ShellExpansionError";
    this.reason = reason;
    if (quoteOffset !== undefined) this.quoteOffset = quoteOffset;
  }
}

class Fail extends Error {
  constructor(
    message: string,
    readonly quoteOffset?: number,
  ) {
    super(message);
  }
}

const EOF = -1;
const NONE: string[] = Object.freeze([]) as unknown as string[];
// Limits that keep hostile input from exhausting the stack or memory. Go's
// lexer has none, but no real Dockerfile comes near them.
const MAX_NESTING = 200;
const MAX_RESULT = 1 << 24;

function isSpecialParam(c: number): boolean {
  // @ * # ? - $ ! 0
  return c === 0x40 || c === 0x2a || c === 0x23 || c === 0x3f || c === 0x2d || c === 0x24 || c === 0x21 || c === 0x30;
}

/**
 * BuildKit-compatible shell-word lexer. `processWord` expands one word and keeps
 * white space; `processWords` also splits the result on unquoted white space.
 * Both report the variable names they read (`used`, BuildKit's "matches") and
 * the unset names they referenced (`unmatched`).
 */
export class ShellLex {
  readonly escapeToken: "\\" | "`";
  private readonly esc: number;
  private readonly opts: Required<ShellLexOptions>;
  // Per-call state.
  private s = "";
  private pos = 0;
  private env: VarLookup = new Map();
  private rawEscapes = false;
  private depth = 0;
  private used = new Set<string>();
  private unmatched = new Set<string>();

  constructor(escapeToken: "\\" | "`" = "\\", options: ShellLexOptions = {}) {
    this.escapeToken = escapeToken;
    this.esc = escapeToken.charCodeAt(0);
    this.opts = {
      rawQuotes: options.rawQuotes ?? false,
      rawEscapes: options.rawEscapes ?? false,
      skipUnsetEnv: options.skipUnsetEnv ?? false,
      skipProcessQuotes: options.skipProcessQuotes ?? false,
    };
  }

  /** Expands `word` to a single string (BuildKit ProcessWord). Throws ShellExpansionError. */
  processWord(word: string, env: VarLookup): { result: string; used: string[]; unmatched: string[] } {
    if (this.isPlain(word)) return { result: word, used: NONE, unmatched: NONE };
    const r = this.run(word, env, false);
    return { result: r.result, used: [...this.used], unmatched: [...this.unmatched] };
  }

  /** Expands `word` and splits it into words (BuildKit ProcessWords). Throws ShellExpansionError. */
  processWords(word: string, env: VarLookup): { result: string[]; used: string[]; unmatched: string[] } {
    const r = this.run(word, env, true);
    return { result: r.words, used: [...this.used], unmatched: [...this.unmatched] };
  }

  /** True when the word has nothing to expand, unquote or unescape. */
  private isPlain(word: string): boolean {
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      if (c === 0x24 || c === 0x27 || c === 0x22 || c === 0x3c || c === this.esc || c === 0xfeff) return false;
    }
    return true;
  }

  private run(word: string, env: VarLookup, split: boolean): { result: string; words: string[] } {
    this.s = word;
    // Go's text/scanner skips a byte order mark at the start of its input.
    this.pos = word.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.env = env;
    this.rawEscapes = this.opts.rawEscapes;
    this.depth = 0;
    this.used = new Set();
    this.unmatched = new Set();
    try {
      return this.processStopOn(EOF, this.opts.rawEscapes, split);
    } catch (e) {
      if (e instanceof Fail) throw new ShellExpansionError(word, e.message, e.quoteOffset);
      throw e;
    }
  }

  private peek(): number {
    return this.pos < this.s.length ? (this.s.codePointAt(this.pos) as number) : EOF;
  }

  private next(): number {
    if (this.pos >= this.s.length) return EOF;
    const c = this.s.codePointAt(this.pos) as number;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private processStopOn(stop: number, rawEscapes: boolean, split: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    if (++this.depth > MAX_NESTING) throw new Fail(`substitutions nested more than ${MAX_NESTING} levels deep`);
    try {
      let result = "";
      const words = new Words();
      const quotes = !this.opts.skipProcessQuotes;
      for (;;) {
        const c = this.peek();
        if (c === EOF) break;
        if (stop !== EOF && c === stop) {
          this.next();
          return { result, words: split ? words.finish() : [] };
        }
        if (c === 0x24) {
          const tmp = this.processDollar();
          result += tmp;
          if (result.length > MAX_RESULT) throw new Fail(`expanded word is longer than ${MAX_RESULT} characters`);
          if (split) words.addString(tmp);
        } else if (c === 0x3c) {
          const tmp = this.processPossibleHeredoc();
          result += tmp;
          if (split) words.addRaw(tmp);
        } else if (quotes && (c === 0x27 || c === 0x22)) {
          const tmp = c === 0x27 ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          if (split) words.addRaw(tmp);
        } else {
          // Fast path: copy a run of ordinary characters in one slice.
          const src = this.s;
          const start = this.pos;
          let end = start;
          while (end < src.length) {
            const cc = src.charCodeAt(end);
            if (cc === 0x24 || cc === 0x3c || cc === this.esc || cc === stop || cc === 0xfeff) break;
            if (quotes && (cc === 0x27 || cc === 0x22)) break;
            if (split && isGoSpace(cc)) break;
            end++;
          }
          if (end > start) {
            const chunk = src.slice(start, end);
            result += chunk;
            if (split) words.addRaw(chunk);
            this.pos = end;
            continue;
          }
          let ch = this.next();
          if (ch === this.esc) {
            if (rawEscapes) {
              if (split) words.addRaw(this.escapeToken);
              result += this.escapeToken;
            }
            ch = this.next();
            if (ch === EOF) break;
            const s = String.fromCodePoint(ch);
            if (split) words.addRaw(s);
            result += s;
          } else {
            const s = String.fromCodePoint(ch);
            if (split) words.addChar(ch, s);
            result += s;
          }
        }
      }
      if (stop !== EOF) {
        throw new Fail(`unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return { result, words: split ? words.finish() : [] };
    } finally {
      this.rawEscapes = saved;
      this.depth--;
    }
  }

  private processSingleQuote(): string {
    let result = "";
    const start = this.pos;
    const q = this.next();
    if (this.opts.rawQuotes) result += String.fromCodePoint(q);
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new Fail("unexpected end of statement while looking for matching single-quote", start);
      if (ch === 0x27) {
        if (this.opts.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const start = this.pos;
    this.next();
    if (this.opts.rawQuotes) result += '"';
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new Fail("unexpected end of statement while looking for matching double-quote", start);
      if (p === 0x22) {
        this.next();
        if (this.opts.rawQuotes) result += '"';
        return result;
      }
      if (p === 0x24) {
        result += this.processDollar();
        if (result.length > MAX_RESULT) throw new Fail(`expanded word is longer than ${MAX_RESULT} characters`);
        continue;
      }
      let ch = this.next();
      if (ch === this.esc) {
        if (this.rawEscapes) result += this.escapeToken;
        const n = this.peek();
        if (n === EOF) continue; // a trailing escape is dropped; the missing quote then fails
        if (n === 0x22 || n === 0x24 || n === this.esc) ch = this.next();
      }
      result += String.fromCodePoint(ch);
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== 0x3c) return "<";
    this.next();
    // Keep blanks after `<<` in the same word, so `<< EOF` stays one heredoc word.
    let result = "<<";
    for (;;) {
      const c = this.peek();
      if (c !== 0x09 && c !== 0x0d && c !== 0x20) break;
      result += String.fromCharCode(c);
      this.next();
    }
    return result;
  }

  private processName(): string {
    let name = "";
    for (;;) {
      const c = this.peek();
      if (c === EOF) break;
      if (name.length === 0 && isGoDigit(c)) {
        // $1, $12…: positional parameters take only digits.
        while (this.peek() !== EOF && isGoDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name.length === 0 && isSpecialParam(c)) {
        this.next();
        return String.fromCodePoint(c);
      }
      if (!isGoLetter(c) && !isGoDigit(c) && c !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }

  private getEnv(name: string): [string, boolean] {
    const v = this.env.get(name);
    if (v !== undefined) {
      this.used.add(name);
      return [v, true];
    }
    this.unmatched.add(name);
    return ["", false];
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b) {
      const name = this.processName();
      if (name === "") return "$";
      const [value, found] = this.getEnv(name);
      if (!found && this.opts.skipUnsetEnv) return "$" + name;
      return value;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Fail("syntax error: missing '}'");
    if (first === 0x7b || first === 0x7d || first === 0x3a) throw new Fail("syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let chs = ch === EOF ? "\uFFFD" : String.fromCodePoint(ch);
    if (ch === 0x7d) {
      const [value, set] = this.getEnv(name);
      if (!set && this.opts.skipUnsetEnv) return "${" + name + "}";
      return value;
    }
    if (ch === 0x2f) return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === 0x3a) {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? "\uFFFD" : String.fromCodePoint(ch);
    } else if (ch !== 0x2b && ch !== 0x2d && ch !== 0x3f && ch !== 0x23 && ch !== 0x25) {
      throw new Fail(`unsupported modifier (${chs}) in substitution`);
    }
    const isPattern = ch === 0x23 || ch === 0x25;
    if (nullIsUnset && isPattern) throw new Fail(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn(0x7d, isPattern, false).result;
    } catch (e) {
      if (e instanceof Fail && this.peek() === EOF) throw new Fail("syntax error: missing '}'");
      throw e;
    }
    const [value, set] = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return "${" + name + chs + word + "}";
    switch (ch) {
      case 0x2d: // -
        return !set || (nullIsUnset && value === "") ? word : value;
      case 0x2b: // +
        return !set || (nullIsUnset && value === "") ? "" : word;
      case 0x3f: // ?
        if (!set) throw new Fail(`${name}: ${word !== "" ? word : "is not allowed to be unset"}`);
        if (nullIsUnset && value === "") throw new Fail(`${name}: ${word !== "" ? word : "is not allowed to be empty"}`);
        return value;
      case 0x23: // #
      case 0x25: {
        // %: a doubled modifier (## or %%) selects the longest match.
        const greedy = word.length > 0 && word.charCodeAt(0) === ch;
        const pattern = greedy ? word.slice(1) : word;
        try {
          return ch === 0x25 ? trimSuffix(pattern, value, greedy) : trimPrefix(pattern, value, greedy);
        } catch (e) {
          if (e instanceof PatternError) throw new Fail(`invalid pattern (${pattern}) in substitution: ${e.message}`);
          throw e;
        }
      }
      default:
        throw new Fail(`unsupported modifier (${chs}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === 0x2f;
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn(0x2f, true, false).result;
    } catch (e) {
      if (e instanceof Fail && this.peek() === EOF) throw new Fail("syntax error: missing '/' in ${}");
      throw e;
    }
    let replacement: string;
    try {
      replacement = this.processStopOn(0x7d, true, false).result;
    } catch (e) {
      if (e instanceof Fail && this.peek() === EOF) throw new Fail("syntax error: missing '}'");
      throw e;
    }
    const [value, set] = this.getEnv(name);
    if (this.opts.skipUnsetEnv && !set) return "${" + name + "/" + pattern + "/" + replacement + "}";
    try {
      return replacePattern(pattern, value, replacement, all);
    } catch (e) {
      if (e instanceof PatternError) throw new Fail(`invalid pattern (${pattern}) in substitution: ${e.message}`);
      throw e;
    }
  }
}
