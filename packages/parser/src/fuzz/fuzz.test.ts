import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conformanceDir } from "../conformance/locate.js";
import { BUILTIN_SEEDS, checkInput, fuzzParser } from "./fuzz.js";
import { Rng, mutate, randomDockerfile } from "./generate.js";

const corpusDir = join(conformanceDir(), "buildkit-parser", "testfiles");
const corpus = [...BUILTIN_SEEDS, ...readdirSync(corpusDir).map((d) => readFileSync(join(corpusDir, d, "Dockerfile"), "utf8"))];

// Any outcome is fine except an exception other than DockerfileSyntaxError (checkInput rethrows those).
const survives = (input: string | Uint8Array) => {
  expect(["ok", "syntax-error"]).toContain(checkInput(input));
};

describe("robustness", () => {
  it("mutated corpus files and random Dockerfiles only fail with DockerfileSyntaxError", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.boolean(), (seed, fromCorpus) => {
        const r = new Rng(seed);
        survives(fromCorpus ? mutate(r.pick(corpus), r) : mutate(randomDockerfile(r), r));
      }),
      { numRuns: 2500, seed: 20240601 },
    );
  });

  it("arbitrary text and bytes only fail with DockerfileSyntaxError", () => {
    const alphabet = fc.constantFrom("\\", "`", "\n", "\r", "$", "{", "}", "<", "-", '"', "'", "[", "]", "=", ",", "#", " ", "\t", "F", "R", "O", "M", "U", "N", "a", "é", "\u00a0");
    fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 300 }), survives), { numRuns: 1500, seed: 7 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), survives), { numRuns: 500, seed: 8 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), survives), { numRuns: 500, seed: 9 });
  });

  it("fuzzParser reports no unexpected exceptions", () => {
    const report = fuzzParser(3000, 1, corpus);
    expect(report.failures.map((f) => f.error)).toEqual([]);
    expect(report.cases).toBe(3000);
    expect(report.ok + report.syntaxErrors).toBe(3000);
  });

  it("survives hostile shapes without exhausting the stack or backtracking", () => {
    const deep = (n: number) => "${a:-".repeat(n) + "x" + "}".repeat(n);
    const blanks = " ".repeat(60000);
    const cases = [
      `FROM a\nRUN <<EOF ${deep(5000)}\nEOF\n`,
      `FROM a AS b\nCOPY --from=${deep(5000)} /a /b\n`,
      `FROM a\nENV X=${deep(5000)}\n`,
      `# syntax=x${blanks}y\nFROM a\n`,
      `FROM a\n# check=skip=a${blanks}b\nRUN x\n`,
      `FROM a\nRUN --mount=type=secret,target=${"/".repeat(60000)}x true\n`,
      `FROM a\nCMD ${"[".repeat(30000)}${"]".repeat(30000)}\n`,
      `FROM a\nCMD [${"[".repeat(20000)}1${"]".repeat(20000)}]\n`,
      "FROM a\n" + "ONBUILD \\\n".repeat(30000) + "RUN x\n",
      `FROM a\nENV V=${"a".repeat(30000)}\nENV W=\${V//${"*a".repeat(30)}b/x} Y=\${V%%${"*a".repeat(30)}}\n`,
      "FROM a\nRUN " + "<<A ".repeat(2000) + "\n" + "A\n".repeat(2000),
      Array.from({ length: 3000 }, (_, i) => `FROM s${i} AS s${i + 1}\nCOPY --from=s${i} / /`).join("\n"),
      `FROM a\nRUN x \\${"\n".repeat(50000)}y\n`,
      "\ufeff\ufeff# escape=`\r\nFROM a\r\n",
    ];
    for (const c of cases) survives(c);
  });
});
