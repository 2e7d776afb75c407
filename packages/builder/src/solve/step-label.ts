// The label a step is shown with, as BuildKit's progress (and the tbuild CLI) prints it:
// `[2/4] RUN make` in a single-stage build, `[builder 2/4] …` for a named stage,
// `[stage-1 2/4] …` for an unnamed one among several, `[linux/arm64 builder 2/4] …` in a
// multi-platform build. BuildKit counts FROM as step 1, so
// N and M are one more than StepRef's FROM-is-0 index and FROM-excluded total. Kept equal
// to packages/cli/src/progress/labels.ts (test/builder-api-labels.test.ts checks it).
import type { StepRef } from "../api-types.js";

/** The label of `step` in a build that runs `stageCount` stages. */
export function stepLabel(step: Omit<StepRef, "label">, stageCount: number): string {
  const n = step.index + 1;
  const m = step.total + 1;
  const named = !/^\d+$/.test(step.stage);
  const stage = named ? step.stage : stageCount > 1 ? `stage-${step.stageIndex}` : "";
  const counter = `${String(n).padStart(String(m).length)}/${m}`;
  const prefix = [step.platform, stage].filter((p) => p).join(" ");
  return `[${prefix ? `${prefix} ` : ""}${counter}] ${oneLineInstruction(step.instruction)}`;
}

/** Collapses a multi-line instruction (continuations, heredocs) onto one line. */
function oneLineInstruction(text: string): string {
  return text.replace(/[ \t]*(?:\\|`)?\r?\n\s*/g, " ").trim();
}
