import { describe, expect, it } from "vitest";
import { buildPhases } from "./events.js";
import { phasesTable, summaryTable } from "./report.js";
import type { Sample } from "./results.js";

const sample = (engine: string, figure: Sample["figure"], seconds: number, run = 1): Sample => ({
  engine, workload: "bigcontext", figure, run, seconds, maxRssKb: 100 * 1024, load: 1, ok: true, note: "",
});

describe("summaryTable", () => {
  it("prints medians, ratios and target verdicts", () => {
    const samples = [
      sample("tbuild", "warm_noop", 0.3, 1), sample("tbuild", "warm_noop", 0.5, 2), sample("tbuild", "warm_noop", 0.4, 3),
      sample("buildkit", "warm_noop", 0.5, 1), sample("buildkit", "warm_noop", 0.5, 2), sample("buildkit", "warm_noop", 0.5, 3),
    ];
    const table = summaryTable(samples, ["bigcontext"], ["buildkit"], 3);
    expect(table).toContain("| bigcontext | no-op rebuild | 0.40 | 100 | 0.50 | 0.80 | ≤0.6× bk | MISS (0.80× bk) |");
  });
});

describe("buildPhases", () => {
  it("splits a build into start-up, solve and exit from rawjson events", () => {
    const out = [
      `{"type":"build-start","stages":[],"time":1100}`,
      `{"type":"step-start","step":{"id":"a","instruction":"COPY . /"},"time":1110}`,
      `{"type":"step-done","step":{"id":"a","instruction":"COPY . /"},"durationMs":50,"time":1160}`,
      `{"type":"build-done","digest":"sha256:x","durationMs":70,"time":1170}`,
    ].join("\n");
    const p = buildPhases(out, 1000, 1200)!;
    expect([p.startupMs, p.solveMs, p.exitMs]).toEqual([100, 70, 30]);
    expect(p.slowest).toEqual({ instruction: "COPY . /", ms: 50, cached: false });
  });
});

describe("phasesTable", () => {
  it("prints start-up above node -e 0 measured in the same run", () => {
    const phases = (startupMs: number) => ({ startupMs, solveMs: 30, exitMs: 10, steps: [] });
    const samples = [120, 130, 125].map((ms, i) => ({ ...sample("tbuild", "warm_noop", 0.2, i + 1), phases: phases(ms) }));
    const table = phasesTable(samples, ["bigcontext"], 61);
    expect(table).toContain("61 ms (median), so the target (≤ 60 ms above it) is ≤ 121 ms");
    expect(table).toContain("| bigcontext | no-op rebuild | 125 | 64 | 30 | 10 | - |");
  });
});
