// Synthetic BuildEvent sequences for renderer tests.
import type { BuildEvent, StepRef } from "../builder-api.js";

/** A StepRef with sensible defaults. */
export function step(id: string, over: Partial<StepRef> = {}): StepRef {
  return { id, stage: "0", stageIndex: 0, index: 1, total: 3, instruction: "RUN true", line: 2, ...over };
}

/** A two-step, one-stage build: FROM cached, RUN with output, COPY done; then export and done. */
export function simpleBuild(t0 = 1_000_000): BuildEvent[] {
  const from = step("s0.0", { index: 0, total: 2, instruction: "FROM base", line: 1 });
  const run = step("s0.1", { index: 1, total: 2, instruction: "RUN echo hello \\\n    && echo world", line: 2 });
  const copy = step("s0.2", { index: 2, total: 2, instruction: "COPY . /app", line: 4 });
  return [
    { type: "build-start", stages: [{ name: "0", index: 0, steps: 2 }], time: t0 },
    { type: "step-cached", step: from, time: t0 + 5 },
    { type: "step-start", step: run, time: t0 + 10 },
    { type: "step-log", step: run, stream: "stdout", data: "hel", time: t0 + 100 },
    { type: "step-log", step: run, stream: "stdout", data: "lo\nwor", time: t0 + 200 },
    { type: "step-log", step: run, stream: "stdout", data: "ld\n", time: t0 + 1234 },
    { type: "step-done", step: run, durationMs: 1300, time: t0 + 1310 },
    { type: "step-start", step: copy, time: t0 + 1320 },
    { type: "step-done", step: copy, durationMs: 40, time: t0 + 1360 },
    { type: "warning", message: "JSON arguments recommended for CMD", line: 5, rule: "JSONArgsRecommended", time: t0 + 1361 },
    { type: "export", output: { type: "store" }, digest: "sha256:aaaa", time: t0 + 1400 },
    { type: "export", output: { type: "oci", dest: "/tmp/x.tar" }, digest: "sha256:bbbb", time: t0 + 1450 },
    { type: "build-done", digest: "sha256:cccc", durationMs: 1500, time: t0 + 1500 },
  ];
}
