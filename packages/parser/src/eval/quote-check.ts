// Unterminated quotes are found before a build runs anything. BuildKit converts the whole
// Dockerfile to LLB before it solves a step, so a word that cannot be expanded fails the
// build first; tbuild expands instruction by instruction while stages run, so it looks for
// the one error that does not depend on variable values — an unmatched quote — up front.

import type { DockerfileIR, Instruction } from "../ir/types.js";
import { ShellExpansionError, ShellLex, type VarLookup } from "../shell/lex.js";
import { expansionError } from "./eval-error.js";
import { expandInstruction, makeExpander } from "./expand.js";

// Every name set and non-empty: `${v:?}` and friends cannot fail, only the word's syntax can.
const everySet: VarLookup = { get: () => "x" };

/**
 * Throws a DockerfileSyntaxError at the quote for the first word with an unmatched quote in
 * the global ARGs or the instructions of `stages` (indexes into `ir.stages`, in build order).
 */
export function checkQuotes(ir: DockerfileIR, stages: readonly number[]): void {
  const lex = new ShellLex(ir.escapeToken);
  const check = (inst: Instruction) => {
    const x = makeExpander(lex, everySet);
    try {
      if (inst.kind === "arg") {
        for (const a of inst.args) if (a.default !== undefined) x.word(a.default);
      } else if (inst.kind !== "onbuild") {
        expandInstruction(inst, x);
      }
    } catch (e) {
      if (e instanceof ShellExpansionError && e.quoteOffset !== undefined) throw expansionError(inst, e, ir.file, ir.escapeToken);
      // Any other failure depends on values (or is not about words): the stage reports it in order.
    }
  };
  ir.globalArgs.forEach(check);
  for (const i of [...stages].sort((a, b) => a - b)) ir.stages[i]?.instructions.forEach(check);
}
