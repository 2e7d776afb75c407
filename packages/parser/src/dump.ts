// BuildKit's AST.Dump() text, used by the conformance corpus.

import type { Dockerfile, InstructionNode } from "./ast.js";
import { goQuote } from "./text/go-quote.js";
import { goTrimSpace } from "./text/unicode.js";

/** One node without its ONBUILD child: `keyword ["flags"] "args"…` (untrimmed). */
function dumpHead(node: InstructionNode): string {
  let s = node.keyword.toLowerCase();
  if (node.flags.length > 0) s += " [" + node.flags.map(goQuote).join(" ") + "]";
  for (const a of node.args) s += " " + goQuote(a);
  return s;
}

/** Dumps one instruction (without the outer parentheses) as BuildKit does. */
export function dumpNode(node: InstructionNode): string {
  // Nested ONBUILD dumps as `onbuild (run …)`; built iteratively so deep chains cannot overflow the stack.
  const heads: string[] = [];
  for (let n: InstructionNode | undefined = node; n; n = n.child) heads.push(dumpHead(n));
  // Each level is `head (child)`; only the innermost head can end in white space that Go trims.
  const n = heads.length;
  let out = "";
  for (let i = 0; i < n - 1; i++) out += heads[i] + " (";
  out += goTrimSpace(heads[n - 1]) + ")".repeat(n - 1);
  return goTrimSpace(out);
}

/** The BuildKit `AST.Dump()` text of a parsed Dockerfile: one `(instruction …)` line each, no final newline. */
export function dumpBuildkit(df: Dockerfile): string {
  let out = "";
  for (const n of df.instructions) out += "(" + dumpNode(n) + ")\n";
  return goTrimSpace(out);
}
