// Counting for the hostile suite. Each hostile test runs its cases through a Tally: every
// case is tried, a case whose checks throw counts as "bad" (an escape, a corrupt build, a
// failed build, a mishandled fault such as a full disk or an interrupt), and the counts travel to the summary reporter in the test's task meta
// (test/hostile/summary-reporter.ts prints them after `npm run test:hostile`). The test
// still fails if any case was bad, listing every failure, not only the first.
import type { TestContext } from "vitest";

/** What a count is about; each kind is one line of the summary. */
export type TallyKind = "inputs" | "kills" | "builds" | "faults";

export interface TallyCounts {
  kind: TallyKind;
  tried: number;
  bad: number;
}

declare module "@vitest/runner" {
  interface TaskMeta {
    hostile?: TallyCounts;
  }
}

/** True when the full-size hostile run was asked for (`npm run test:hostile`). */
export const FULL = process.env.TBUILD_HOSTILE_FULL === "1";

/** `full` under `npm run test:hostile`, `quick` inside plain `npm test`. */
export function sized(quick: number, full: number): number {
  return FULL ? full : quick;
}

export class Tally {
  private readonly failures: string[] = [];
  private readonly counts: TallyCounts;

  /** Without a test context the counts stay private (checks that are no hostile input). */
  constructor(ctx: TestContext | undefined, kind: TallyKind) {
    this.counts = { kind, tried: 0, bad: 0 };
    if (ctx) ctx.task.meta.hostile = this.counts;
  }

  get tried(): number {
    return this.counts.tried;
  }

  /** Runs one case; a throw marks it bad (recorded, not rethrown: see `assertClean`). */
  async check(name: string, fn: () => unknown): Promise<void> {
    this.counts.tried++;
    try {
      await fn();
    } catch (e) {
      this.counts.bad++;
      this.failures.push(`${name}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  /** Records cases counted elsewhere (e.g. a fuzz loop), `bad` of them failed. */
  add(tried: number, bad: number, failures: string[] = []): void {
    this.counts.tried += tried;
    this.counts.bad += bad;
    this.failures.push(...failures);
  }

  /** Reports `tried` cases instead of the number of checks run (when only some checks are cases). */
  recount(tried: number): void {
    this.counts.tried = tried;
  }

  /** Fails the test with every bad case's message. */
  assertClean(): void {
    if (this.failures.length > 0) {
      throw new Error(`${this.failures.length} of ${this.counts.tried} cases failed:\n\n${this.failures.join("\n\n")}`);
    }
  }
}
