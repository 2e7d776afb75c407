// The build API's ready-made step labels must be what the CLI prints for the same step.
import { describe, expect, it } from "vitest";
import { stepLabel as cliLabel } from "../packages/cli/src/progress/labels.js";
import { stepLabel } from "../packages/builder/src/solve/step-label.js";

const base = { id: "s0.0", stage: "0", stageIndex: 0, index: 0, total: 4, instruction: "FROM busybox", line: 1 };

describe("StepRef.label", () => {
  it.each([
    ["a single-stage build", base, 1, "[1/5] FROM busybox"],
    ["an unnamed stage among several", { ...base, stage: "1", stageIndex: 1, index: 2, instruction: "RUN make" }, 2, "[stage-1 3/5] RUN make"],
    ["a named stage", { ...base, stage: "builder", index: 1, total: 9, instruction: "RUN a \\\n  && b" }, 3, "[builder  2/10] RUN a && b"],
  ])("equals the CLI's label for %s", (_what, step, stages, expected) => {
    expect(stepLabel(step, stages)).toBe(expected);
    expect(stepLabel(step, stages)).toBe(cliLabel({ ...step, label: "" }, stages));
  });
});
