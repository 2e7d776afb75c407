// The Dockerfile line parser: physical lines → logical lines (directives,
// comments, continuations, empty-continuation warnings) → nodes with heredoc
// bodies attached. Mirrors the behaviour of BuildKit's parser.Parse.

import type { Directive, Dockerfile, EscapeToken, InstructionNode, RawHeredoc, Warning } from "../ast.js";
import { DockerfileSyntaxError, sourceLineAt } from "../errors.js";
import { Rules, makeWarning } from "../lint/rules.js";
import { goTrimSpace, isGoSpace, utf8Length } from "../text/unicode.js";
import { DirectiveError, DirectiveScanner } from "./directives.js";
import { HeredocError, heredocsFromLine } from "./heredoc.js";
import { NotStringArrayError } from "./json-args.js";
import { EMPTY, LineParseError, parseLine } from "./line-parsers.js";

/** Options for parseDockerfile. */
export interface ParseOptions {
  /** File name used in error messages (default `Dockerfile`). */
  file?: string;
}

// Go's bufio.Scanner refuses a line of 64 KiB or more.
const MAX_LINE_BYTES = 65535;
const HEREDOC_KEYWORDS = new Set(["add", "copy", "run"]);
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

class LineParser {
  private readonly src: string;
  private readonly file: string;
  private pos = 0;
  private lineNo = 0;
  // The current physical line: [ls, le) is its text without the line ending, next starts the following line.
  private ls = 0;
  private le = 0;
  private next = 0;
  private esc: EscapeToken = "\\";
  private escCode = 0x5c;
  private readonly directives = new DirectiveScanner();
  private readonly warnings: Warning[] = [];
  private readonly nodes: InstructionNode[] = [];
  private comments: string[] = [];

  constructor(src: string, file: string) {
    this.src = src;
    this.file = file;
  }

  private fail(reason: string, line: number, column = 1, endLine?: number): never {
    throw new DockerfileSyntaxError(reason, { file: this.file, line, column, sourceLine: sourceLineAt(this.src, line), endLine });
  }

  /** Advances to the next physical line; false at end of input. */
  private readLine(): boolean {
    const src = this.src;
    if (this.pos >= src.length) return false;
    const start = this.pos;
    let nl = src.indexOf("\n", start);
    if (nl < 0) nl = src.length;
    if (nl - start > MAX_LINE_BYTES / 3 && utf8Length(src.slice(start, nl)) > MAX_LINE_BYTES) {
      this.fail(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, this.lineNo + 1);
    }
    let end = nl;
    while (end > start && src.charCodeAt(end - 1) === 0x0d) end--;
    this.ls = start;
    this.le = end;
    this.next = nl < src.length ? nl + 1 : nl;
    this.pos = this.next;
    return true;
  }

  /** Offset of the first non-space character of the current line (this.le if none). */
  private firstNonSpace(): number {
    let i = this.ls;
    while (i < this.le && isGoSpace(this.src.charCodeAt(i))) i++;
    return i;
  }

  /**
   * Strips a trailing continuation escape (optionally followed by blanks) from
   * [from, le): returns the end of the text to keep, and sets `continues`.
   */
  private continues = false;
  private trimContinuation(from: number): number {
    const src = this.src;
    let e = this.le;
    while (e > from && (src.charCodeAt(e - 1) === 0x20 || src.charCodeAt(e - 1) === 0x09)) e--;
    if (e > from && src.charCodeAt(e - 1) === this.escCode) {
      const at = e - 1;
      // An escaped escape character (`\\`) at the end does not continue the line.
      if (at === from || src.charCodeAt(at - 1) !== this.escCode) {
        this.continues = true;
        return at;
      }
    }
    this.continues = false;
    return this.le;
  }

  run(): Dockerfile {
    const src = this.src;
    while (this.readLine()) {
      const first = this.firstNonSpace();
      const isComment = first < this.le && src.charCodeAt(first) === 0x23;
      if (isComment) {
        const text = goTrimSpace(src.slice(this.ls + 1, this.le));
        if (text === "") this.comments = [];
        else this.comments.push(text);
      }
      if (!this.directives.finished) this.scanDirective(src.slice(first, this.le));
      this.lineNo++;
      if (isComment) continue;
      const startLine = this.lineNo;
      const startOffset = first;
      const startColumn = first - this.ls + 1;
      const end = this.trimContinuation(first);
      if (!this.continues && end === first) continue;
      let logical = src.slice(first, end);
      let parts: string[] | undefined;
      let emptyLines = false;
      while (this.continues && this.readLine()) {
        this.lineNo++;
        const f = this.firstNonSpace();
        if (f < this.le && src.charCodeAt(f) === 0x23) continue;
        if (f === this.le) {
          emptyLines = true;
          continue;
        }
        const e = this.trimContinuation(this.ls);
        (parts ??= [logical]).push(src.slice(this.ls, e));
      }
      if (parts) logical = parts.join("");
      if (emptyLines) {
        const at = { line: this.lineNo, column: 1 };
        this.warnings.push(makeWarning(Rules.NoEmptyContinuation, `Empty continuation line found in: ${logical}`, { start: at, end: at }));
      }
      this.addInstruction(logical, startLine, startColumn, startOffset);
      if (this.comments.length > 0) this.comments = [];
    }
    if (this.nodes.length === 0) this.fail("file with no instructions", 1);
    this.directivesAfterShebang();
    const out: Dockerfile = {
      file: this.file,
      source: src,
      instructions: this.nodes,
      directives: this.directives.found,
      escapeToken: this.esc,
      warnings: this.warnings,
    };
    const syntax = this.directives.found.find((d) => d.name === "syntax");
    if (syntax) out.syntax = syntax.value;
    return out;
  }

  /**
   * BuildKit also finds `syntax` and `check` directives below a leading `#!`
   * line (but not `escape`, which only the line parser reads).
   */
  private directivesAfterShebang(): void {
    const src = this.src;
    if (!src.startsWith("#!")) return;
    const scanner = new DirectiveScanner();
    let pos = src.indexOf("\n") + 1;
    for (let line = 2; pos > 0 && pos < src.length && !scanner.finished; line++) {
      let nl = src.indexOf("\n", pos);
      if (nl < 0) nl = src.length;
      const end = nl > pos && src.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      try {
        scanner.scan(src.slice(pos, end), line);
      } catch {
        break; // upstream stops at a repeated or invalid directive here
      }
      pos = nl + 1;
    }
    for (const d of scanner.found) {
      if (d.name !== "escape" && !this.directives.found.some((x) => x.name === d.name)) this.directives.found.push(d);
    }
  }

  private scanDirective(line: string): void {
    let d: Directive | undefined;
    try {
      d = this.directives.scan(line, this.lineNo + 1);
    } catch (e) {
      if (e instanceof DirectiveError) this.fail(e.message, this.lineNo + 1);
      throw e;
    }
    if (!d) return;
    // A directive is not a comment for the instruction below it.
    this.comments.pop();
    if (d.name === "escape") {
      this.esc = d.value as EscapeToken;
      this.escCode = this.esc.charCodeAt(0);
    }
  }

  private addInstruction(logical: string, startLine: number, startColumn: number, startOffset: number): void {
    // The range end and text are known only after heredoc bodies are read; the objects are filled in then.
    const range = { start: { line: startLine, column: startColumn }, end: { line: 0, column: 0 } };
    let node: InstructionNode;
    try {
      node = parseLine(logical, this.escCode, range, "");
    } catch (e) {
      if (e instanceof LineParseError || e instanceof NotStringArrayError) {
        this.fail(e.message, startLine, startColumn, this.lineNo);
      }
      throw e;
    }
    const target = node.child && node.keyword.toLowerCase() === "onbuild" ? node.child : node;
    if (!target.json && logical.includes("<<") && HEREDOC_KEYWORDS.has(target.keyword.toLowerCase())) {
      let docs;
      try {
        docs = heredocsFromLine(logical);
      } catch (e) {
        if (e instanceof HeredocError) this.fail(e.message, startLine, startColumn, this.lineNo);
        throw e;
      }
      if (docs.length > 0) node.heredocs = docs.map((doc) => this.readHeredoc(doc, startLine, startColumn));
    }
    range.end.line = this.lineNo;
    range.end.column = this.le - this.ls + 1;
    // A one-line instruction's text is its logical line: reuse the string.
    const end = Math.max(startOffset, this.le);
    const text = end - startOffset === logical.length && startLine === this.lineNo ? logical : this.src.slice(startOffset, end);
    if (this.comments.length > 0) node.comments = this.comments;
    for (let n: InstructionNode | undefined = node; n; n = n.child) n.text = text;
    this.nodes.push(node);
  }

  private readHeredoc(doc: Omit<RawHeredoc, "content">, startLine: number, startColumn: number): RawHeredoc {
    const src = this.src;
    const bodyStart = this.pos;
    let bodyEnd = bodyStart;
    while (this.readLine()) {
      this.lineNo++;
      let s = this.ls;
      if (doc.chomp) while (s < this.le && src.charCodeAt(s) === 0x09) s++;
      if (this.le - s === doc.name.length && src.startsWith(doc.name, s)) {
        return { ...doc, content: src.slice(bodyStart, bodyEnd) };
      }
      bodyEnd = this.next;
    }
    return this.fail("unterminated heredoc", startLine, startColumn, this.lineNo);
  }
}

/**
 * Parses Dockerfile text (a string, or UTF-8 bytes) into BuildKit's node model:
 * one node per instruction with keyword, flags, arguments, exec-form flag,
 * heredocs, nested ONBUILD instruction, source range and text, plus the parser
 * directives, escape character and parser warnings. Checks only what BuildKit's
 * line parser checks; throws DockerfileSyntaxError.
 */
export function parseDockerfile(input: string | Uint8Array, opts: ParseOptions = {}): Dockerfile {
  let src = typeof input === "string" ? input : decoder.decode(input);
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1);
  return new LineParser(src, opts.file ?? "Dockerfile").run();
}
