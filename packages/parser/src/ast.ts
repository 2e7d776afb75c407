// The low-level syntax tree: BuildKit's parser node model, plus source ranges.
// It records what was written (keyword case, flags as words, arguments shaped
// per keyword) and checks nothing beyond what BuildKit's line parser checks.

/** A 1-based position in the source. */
export interface Position {
  line: number;
  column: number;
}

/**
 * A source range. `start` is the first character; `end` is one column past the
 * last character of the last physical line the item uses (exclusive end).
 */
export interface Range {
  start: Position;
  end: Position;
}

/** A heredoc as the parser reads it: the body is kept raw (leading tabs too, even for `<<-`). */
export interface RawHeredoc {
  /** Delimiter word with quotes removed. */
  name: string;
  /** Body lines with their original line endings; the delimiter line is not included. */
  content: string;
  /** False when any part of the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from body lines (by consumers) and from the delimiter line. */
  chomp: boolean;
  /** The file descriptor prefix (`3<<EOF`), when written. */
  fd?: number;
}

/**
 * One instruction as BuildKit's parser models it. Treat nodes as immutable:
 * empty arrays are shared and frozen.
 */
export interface InstructionNode {
  /** The keyword exactly as written (`FROM`, `run`, `ExPoSe`). */
  keyword: string;
  /** Leading `--flag[=value]` words, quotes and escapes removed, `--` included. */
  flags: string[];
  /** The argument list (BuildKit's `Next` chain); empty for ONBUILD, which uses `child`. */
  args: string[];
  /** ONBUILD: the wrapped instruction. */
  child?: InstructionNode;
  /** True when the arguments came from a JSON array (exec form). */
  json: boolean;
  heredocs: RawHeredoc[];
  /** The logical line after joining continuations (BuildKit's `Original`). */
  original: string;
  /** The exact source text from the keyword to the end of the last physical line used. */
  text: string;
  range: Range;
  /** Comment lines directly above the instruction (text after `#`, trimmed). */
  comments: string[];
}

/** A parser directive from the top of the file (`# syntax=…`, `# escape=…`, `# check=…`). */
export interface Directive {
  name: "syntax" | "escape" | "check";
  value: string;
  line: number;
}

/** A build check (lint) finding. `rule` uses BuildKit's rule names. */
export interface Warning {
  rule: string;
  message: string;
  /** The rule's general description. */
  description: string;
  url: string;
  range: Range;
  /** 1-based line the finding is reported on. */
  line: number;
}

export type EscapeToken = "\\" | "`";

/** The result of `parseDockerfile`. */
export interface Dockerfile {
  file: string;
  /** The decoded source text (BOM removed). */
  source: string;
  instructions: InstructionNode[];
  directives: Directive[];
  escapeToken: EscapeToken;
  /** Parser-level warnings (empty continuation lines). */
  warnings: Warning[];
  /** `syntax` directive value, if any. */
  syntax?: string;
}
