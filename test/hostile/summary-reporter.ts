// The figures of `npm run test:hostile`: sums the counts the hostile tests put into their task
// meta (test/support/hostile-tally.ts) and prints, after vitest's own report,
//   hostile inputs: N tried, 0 escaped
//   kill -9 builds: N, 0 corrupt
//   concurrent builds: N, 0 failed
//   faults (full disk, interrupts, leftovers): N checked, 0 mishandled
// naming the tests with bad cases. A test that failed without recording counts (it crashed
// in set-up) counts as one bad case of its kind, so a broken test never shows as a clean 0.
// Tests marked `it.fails` are known, reported bugs: their bad cases are counted and listed.
import type { Reporter, TestCase, TestModule } from "vitest/node";
import type { TallyCounts, TallyKind } from "../support/hostile-tally.js";

const LABELS: Record<TallyKind, (tried: number, bad: number) => string> = {
  inputs: (t, b) => `hostile inputs: ${t} tried, ${b} escaped`,
  kills: (t, b) => `kill -9 builds: ${t}, ${b} corrupt`,
  builds: (t, b) => `concurrent builds: ${t}, ${b} failed`,
  faults: (t, b) => `faults (full disk, interrupts, leftovers): ${t} checked, ${b} mishandled`,
};

/** Which summary line a test file feeds when it fails before counting. */
function kindOfFile(file: string): TallyKind {
  if (/kill9/.test(file)) return "kills";
  if (/concurren|prune/.test(file)) return "builds";
  if (/enospc|cleanup|interrupt/.test(file)) return "faults";
  return "inputs";
}

export default class HostileSummaryReporter implements Reporter {
  private readonly totals: Record<TallyKind, { tried: number; bad: number; where: string[] }> = {
    inputs: { tried: 0, bad: 0, where: [] },
    kills: { tried: 0, bad: 0, where: [] },
    builds: { tried: 0, bad: 0, where: [] },
    faults: { tried: 0, bad: 0, where: [] },
  };

  /** Tests marked it.fails: known bugs, reported for fixing outside test/hostile. */
  private readonly known: string[] = [];

  onTestCaseResult(test: TestCase): void {
    const meta = test.meta() as { hostile?: TallyCounts };
    const state = test.result().state;
    const c = meta.hostile;
    const name = `${test.module.moduleId.replace(/^.*\/test\/hostile\//, "")} > ${test.fullName}`;
    if (test.options.fails && test.module.moduleId.includes("/test/hostile/")) this.known.push(name);
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
    for (const kind of ["inputs", "kills", "builds", "faults"] as const) {
      const t = this.totals[kind];
      lines.push(`  ${LABELS[kind](t.tried, t.bad)}`);
      for (const w of t.where) lines.push(`    - ${w}`);
    }
    if (this.known.length > 0) {
      lines.push(`  known issues (it.fails, fixes proposed in the tests): ${this.known.length}`);
      for (const k of this.known) lines.push(`    - ${k}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
