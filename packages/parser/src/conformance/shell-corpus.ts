// Runs BuildKit's shell-lexer tables (envVarTest, wordsTest) against ShellLex.
// See buildkit-shell/FORMAT.md.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";
import { goTrimSpace } from "../text/unicode.js";
import type { CaseResult } from "./parser-corpus.js";

export interface ShellRun {
  results: CaseResult[];
  /** Windows-only rows that a Linux engine does not run. */
  skipped: number;
}

/** envVarTest: single-word expansion with a fixed environment. */
export function runEnvVarTest(root: string): ShellRun {
  const text = readFileSync(join(root, "buildkit-shell", "envVarTest"), "utf8");
  const env = new Map([
    ["PWD", "/home"],
    ["SHELL", "bash"],
    ["KOREAN", "한국어"],
    ["NULL", ""],
  ]);
  const lex = new ShellLex("\\");
  const results: CaseResult[] = [];
  let skipped = 0;
  text.split("\n").forEach((raw, i) => {
    if (raw.startsWith("#")) return;
    const line = goTrimSpace(raw);
    if (line === "") return;
    const name = `envVarTest:${i + 1}`;
    const fields = line.split("|").map(goTrimSpace);
    if (fields.length !== 3) {
      results.push({ name, ok: false, detail: "malformed line" });
      return;
    }
    const [tag, input, expected] = fields;
    if (tag === "W") {
      skipped++;
      return;
    }
    if (tag !== "A" && tag !== "U") {
      results.push({ name, ok: false, detail: `unknown tag ${tag}` });
      return;
    }
    try {
      const got = lex.processWord(input, env).result;
      if (expected === "error") results.push({ name, ok: false, detail: `${input}: expected an error, got ${JSON.stringify(got)}` });
      else results.push({ name, ok: got === expected, detail: `${input}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}` });
    } catch (e) {
      if (!(e instanceof ShellExpansionError)) throw e;
      results.push({ name, ok: expected === "error", detail: `${input}: unexpected error ${e.message}` });
    }
  });
  return { results, skipped };
}

/** wordsTest: word splitting; `ENV` lines add variables for later lines. */
export function runWordsTest(root: string): ShellRun {
  const text = readFileSync(join(root, "buildkit-shell", "wordsTest"), "utf8");
  const env = new Map<string, string>();
  const lex = new ShellLex("\\");
  const results: CaseResult[] = [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, i) => {
    if (raw.startsWith("#")) return;
    if (raw.startsWith("ENV ")) {
      const kv = raw.slice(3).replace(/^ +/, "");
      const eq = kv.indexOf("=");
      env.set(kv.slice(0, eq), kv.slice(eq + 1));
      return;
    }
    const name = `wordsTest:${i + 1}`;
    const fields = raw.split("|");
    if (fields.length !== 2) {
      results.push({ name, ok: false, detail: "malformed line" });
      return;
    }
    const input = goTrimSpace(fields[0]);
    const expected = fields[1].replace(/^ +/, "").split(",");
    let got: string[];
    try {
      got = lex.processWords(input, env).result;
    } catch (e) {
      if (!(e instanceof ShellExpansionError)) throw e;
      got = ["error"];
    }
    const ok = got.length === expected.length && got.every((w, j) => w === expected[j]);
    results.push({ name, ok, detail: `${input}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}` });
  });
  return { results, skipped: 0 };
}
