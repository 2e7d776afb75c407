// Shared helpers for turning parser nodes into typed instructions.

import type { InstructionNode, RawHeredoc } from "../ast.js";
import { goTrimSpace } from "../text/unicode.js";
import { InstructionError } from "./instruction-error.js";
import type { Heredoc, InstructionBase, ShellOrExec } from "./types.js";

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
  return s
    .split("\n")
    .map((l) => l.replace(/^\t+/, ""))
    .join("\n");
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

/** Shell or exec form of RUN/CMD/ENTRYPOINT arguments (BuildKit handleJSONArgs). */
export function commandLine(node: InstructionNode): ShellOrExec {
  if (node.json) return { form: "exec", command: [...node.args] };
  return { form: "shell", command: node.args.join(" ") };
}

export function errAtLeastOne(name: string): InstructionError {
  return new InstructionError(`${name} requires at least one argument`);
}

export function errExactlyOne(name: string): InstructionError {
  return new InstructionError(`${name} requires exactly one argument`);
}
