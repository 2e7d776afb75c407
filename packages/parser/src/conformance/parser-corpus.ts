// Runs BuildKit's parser corpus (testfiles, testfiles-negative, testfile-line)
// against parseDockerfile + dumpBuildkit. See buildkit-parser/FORMAT.md.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { dumpBuildkit } from "../dump.js";
import { DockerfileSyntaxError } from "../errors.js";
import { parseDockerfile } from "../lexer/parser.js";

export interface CaseResult {
  name: string;
  ok: boolean;
  /** Why it failed (diff summary or unexpected error). */
  detail?: string;
}

function listCases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function firstDifference(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}: expected ${JSON.stringify(bl[i])}, got ${JSON.stringify(al[i])}`;
  }
  return "outputs differ";
}

/** Positive cases: the dump plus a newline must equal `result` exactly. */
export function runParserTestfiles(root: string): CaseResult[] {
  const dir = join(root, "buildkit-parser", "testfiles");
  return listCases(dir).map((name) => {
    const src = readFileSync(join(dir, name, "Dockerfile"));
    const expected = readFileSync(join(dir, name, "result"), "utf8").replaceAll("\r\n", "\n");
    try {
      const got = dumpBuildkit(parseDockerfile(src)) + "\n";
      return got === expected ? { name, ok: true } : { name, ok: false, detail: firstDifference(got, expected) };
    } catch (e) {
      return { name, ok: false, detail: `unexpected error: ${(e as Error).message}` };
    }
  });
}

/** Negative cases: parsing must fail with a DockerfileSyntaxError. */
export function runParserNegative(root: string): CaseResult[] {
  const dir = join(root, "buildkit-parser", "testfiles-negative");
  return listCases(dir).map((name) => {
    const src = readFileSync(join(dir, name, "Dockerfile"));
    try {
      parseDockerfile(src);
      return { name, ok: false, detail: "parsed without error" };
    } catch (e) {
      if (e instanceof DockerfileSyntaxError) return { name, ok: true };
      return { name, ok: false, detail: `wrong error type: ${(e as Error).message}` };
    }
  });
}

/** The line-number case (values from BuildKit's TestParseIncludesLineNumbers). */
export function runParserLineNumbers(root: string): CaseResult[] {
  const src = readFileSync(join(root, "buildkit-parser", "testfile-line", "Dockerfile"));
  const expected: Array<[number, number]> = [
    [5, 5],
    [11, 12],
    [17, 31],
  ];
  const results: CaseResult[] = [];
  let df;
  try {
    df = parseDockerfile(src);
  } catch (e) {
    return [{ name: "parse", ok: false, detail: (e as Error).message }];
  }
  const nodes = df.instructions;
  const first = nodes[0]?.range.start.line;
  const last = nodes[nodes.length - 1]?.range.end.line;
  results.push({ name: "root start", ok: first === 5, detail: `got ${first}` });
  results.push({ name: "root end", ok: last === 31, detail: `got ${last}` });
  results.push({ name: "child count", ok: nodes.length === 3, detail: `got ${nodes.length}` });
  expected.forEach(([s, e], i) => {
    const r = nodes[i]?.range;
    const ok = r !== undefined && r.start.line === s && r.end.line === e;
    results.push({ name: `child ${i}`, ok, detail: r ? `got [${r.start.line},${r.end.line}]` : "missing" });
  });
  return results;
}
