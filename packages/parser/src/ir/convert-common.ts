// Shared helpers for turning parser nodes into typed instructions.

import type { InstructionNode, RawHeredoc } from "../ast.js";
import { goTrimSpace } from "../text/unicode.js";
import { InstructionError } from "./instruction-error.js";
import type { Heredoc, InstructionBase } from "./types.js";

/** The fields every instruction copies from its node. */
export function baseOf(node: InstructionNode): InstructionBase {
  return {
    keyword: node.keyword,
    range: node.range,
    line: node.range.start.line,
    text: node.text,
    original: goTrimSpace(node.original),
  };
}

/** Removes leading tabs from every line (BuildKit's ChompHeredocContent, `^\t+` per line). */
export function chompTabs(s: string): string {
  if (s.indexOf("\t") < 0) return s;
  let out = "";
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && s.charCodeAt(i) === 0x09) i++;
    let nl = s.indexOf("\n", i);
    nl = nl < 0 ? n : nl + 1;
    out += s.slice(i, nl);
    i = nl;
  }
  return out;
}

/** The typed heredoc for a raw one. */
export function toHeredoc(h: RawHeredoc): Heredoc {
  const out: Heredoc = {
    name: h.name,
    content: h.chomp ? chompTabs(h.content) : h.content,
    rawContent: h.content,
    expand: h.expand,
    chomp: h.chomp,
  };
  if (h.fd !== undefined) out.fd = h.fd;
  return out;
}

/** The command of RUN/CMD/ENTRYPOINT: the exec array, or the shell text (BuildKit handleJSONArgs). */
export function commandOf(node: InstructionNode): string[] | string {
  // The IR shares arrays with the syntax tree; both are treated as immutable.
  return node.json ? node.args : node.args.length === 1 ? node.args[0] : node.args.join(" ");
}

/** `original` of an instruction: the logical line, trimmed. */
export function originalOf(node: InstructionNode): string {
  return goTrimSpace(node.original);
}

export function errAtLeastOne(name: string): InstructionError {
  return new InstructionError(`${name} requires at least one argument`);
}

export function errExactlyOne(name: string): InstructionError {
  return new InstructionError(`${name} requires exactly one argument`);
}
