// `node dist/fuzz/main.js [cases] [seed]`: a long fuzz run (default 100,000
// cases) over mutated corpus files and random Dockerfiles. Exit code 1 on any
// exception other than DockerfileSyntaxError.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { conformanceDir } from "../conformance/locate.js";
import { BUILTIN_SEEDS, fuzzParser } from "./fuzz.js";

function corpusSeeds(): string[] {
  try {
    const dir = join(conformanceDir(), "buildkit-parser", "testfiles");
    return readdirSync(dir).map((d) => readFileSync(join(dir, d, "Dockerfile"), "utf8"));
  } catch {
    return []; // the built-in seeds still give a meaningful run
  }
}

const n = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 1);
const t0 = performance.now();
const report = fuzzParser(n, seed, [...BUILTIN_SEEDS, ...corpusSeeds()]);
const secs = (performance.now() - t0) / 1000;
console.log(
  `fuzz: ${report.cases} cases (seed ${seed}) in ${secs.toFixed(1)} s: ${report.ok} ok, ${report.syntaxErrors} syntax errors, ` +
    `${report.failures.length} unexpected exceptions; slowest case ${report.slowestMs.toFixed(1)} ms`,
);
for (const f of report.failures.slice(0, 10)) console.error(`input ${JSON.stringify(f.input)}\n${f.error}\n`);
process.exitCode = report.failures.length === 0 ? 0 : 1;
