// 100,000 generated Dockerfiles (under `npm run test:hostile`; 30,000 inside `npm test`)
// through the parser, the IR conversion, stage planning and evaluation: each must give an IR
// or a DockerfileSyntaxError, nothing else (no TypeError, no RangeError from deep input, no
// hang). The parser's own fuzzParser generates the inputs from seed Dockerfiles (its
// built-ins, the repository's fixtures and, when present, the BuildKit conformance corpus);
// two processes share the work so both cores are used. Uses the built parser (dist/).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/hostile-procs.js";
import { sized, Tally } from "../support/hostile-tally.js";

const TOTAL = sized(30_000, 100_000);
const SHARES = 2;

interface Share {
  cases: number;
  ok: number;
  syntaxErrors: number;
  failureCount: number;
  failures: { input: string; error: string }[];
  slowestMs: number;
  ms: number;
}

function seedFiles(): string[] {
  const found = execFileSync("find", ["fixtures", "test/differential", "-iname", "*dockerfile*", "-type", "f"], { cwd: repoRoot, encoding: "utf8" })
    .split("\n").filter(Boolean).map((f) => path.join(repoRoot, f));
  const corpus = process.env.TBUILD_CONFORMANCE_DIR
    ? path.join(process.env.TBUILD_CONFORMANCE_DIR, "buildkit-parser/testfiles")
    : path.resolve(repoRoot, "../shared/conformance/buildkit-parser/testfiles");
  if (existsSync(corpus)) for (const d of readdirSync(corpus)) found.push(path.join(corpus, d, "Dockerfile"));
  return found.filter((f) => existsSync(f));
}

function runShare(cases: number, seed: number, seeds: string[]): Promise<Share> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "test/hostile/fixtures/fuzz-worker.mjs"), String(cases), String(seed), ...seeds], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`fuzz share ${seed} exited ${code}: ${err}`))));
  });
}

beforeAll(() => {
  execFileSync("flock", ["/tmp/tbuild-cache-test-build.lock", "npx", "tsc", "-b", "packages/parser"], { cwd: repoRoot, stdio: "pipe" });
});

describe("parser fuzzing", () => {
  it(`${TOTAL} generated Dockerfiles give an IR or a DockerfileSyntaxError`, async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const seeds = seedFiles();
    const shares = await Promise.all(Array.from({ length: SHARES }, (_, i) => runShare(TOTAL / SHARES, 20_240_601 + i, seeds)));
    const failures = shares.flatMap((s) => s.failures.map((f) => `${f.error}\n--- input ---\n${f.input}`));
    t.add(shares.reduce((n, s) => n + s.cases, 0), shares.reduce((n, s) => n + s.failureCount, 0), failures);
    console.log(`parser fuzz: ${t.tried} inputs from ${seeds.length + 2} seed files, ${shares.reduce((n, s) => n + s.syntaxErrors, 0)} syntax errors, slowest input ${Math.max(...shares.map((s) => s.slowestMs)).toFixed(0)} ms, ${Math.max(...shares.map((s) => s.ms)) / 1000 | 0} s`);
    expect(t.tried).toBe(TOTAL);
    t.assertClean();
  }, 600_000);
});
