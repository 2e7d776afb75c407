// The figures of `npm run test:hostile`: sums the counts the hostile tests put into their task
// meta (test/support/hostile-tally.ts) and prints, after vitest's own report,
//   hostile inputs: N tried, 0 escaped
//   kill -9 builds: N, 0 corrupt
//   concurrent builds: N, 0 failed
// naming the tests with bad cases. A test that failed without recording counts (it crashed
// in set-up) counts as one bad case of its kind, so a broken test never shows as a clean 0.
// Tests marked `it.fails` are known, reported bugs: their bad cases are counted and listed.
import type { Reporter, TestCase, TestModule } from "vitest/node";
import type { TallyCounts, TallyKind } from "../support/hostile-tally.js";

const LABELS: Record<TallyKind, (tried: number, bad: number) => string> = {
  inputs: (t, b) => `hostile inputs: ${t} tried, ${b} escaped`,
  kills: (t, b) => `kill -9 builds: ${t}, ${b} corrupt`,
  builds: (t, b) => `concurrent builds: ${t}, ${b} failed`,
};

/** Which summary line a test file feeds when it fails before counting. */
function kindOfFile(file: string): TallyKind {
  if (/kill|crash|enospc|interrupt/.test(file)) return "kills";
  if (/concurren|prune/.test(file)) return "builds";
  return "inputs";
}

export default class HostileSummaryReporter implements Reporter {
  private readonly totals: Record<TallyKind, { tried: number; bad: number; where: string[] }> = {
    inputs: { tried: 0, bad: 0, where: [] },
    kills: { tried: 0, bad: 0, where: [] },
    builds: { tried: 0, bad: 0, where: [] },
  };

  onTestCaseResult(test: TestCase): void {
    const meta = test.meta() as { hostile?: TallyCounts };
    const state = test.result().state;
    const c = meta.hostile;
    const name = `${test.module.moduleId.replace(/^.*\/test\/hostile\//, "")} > ${test.fullName}`;
    if (c) {
      const sum = this.totals[c.kind];
      sum.tried += c.tried;
      sum.bad += c.bad;
      if (c.bad > 0) sum.where.push(`${name}: ${c.bad} of ${c.tried}${test.options.fails ? " (known, it.fails)" : ""}`);
    } else if (state === "failed" && test.module.moduleId.includes("/test/hostile/")) {
      const sum = this.totals[kindOfFile(test.module.moduleId)];
      sum.tried += 1;
      sum.bad += 1;
      sum.where.push(`${name}: failed before counting`);
    }
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    const lines = ["", "hostile suite summary"];
    for (const kind of ["inputs", "kills", "builds"] as const) {
      const t = this.totals[kind];
      lines.push(`  ${LABELS[kind](t.tried, t.bad)}`);
      for (const w of t.where) lines.push(`    - ${w}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
