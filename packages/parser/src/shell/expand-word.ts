import type { EscapeToken } from "../ast.js";
import { ShellLex, type VarLookup } from "./lex.js";

const lexers = { "\\": new ShellLex("\\"), "`": new ShellLex("`") };

/** Expands one word with BuildKit's rules (quotes removed, `$v` and `${v…}` substituted). Throws ShellExpansionError. */
export function expandWord(word: string, env: VarLookup, escapeToken: EscapeToken = "\\"): string {
  return lexers[escapeToken].processWord(word, env).result;
}
