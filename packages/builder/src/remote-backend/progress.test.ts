import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { control } from "@tbuild/llb";
import type { BuildEvent, StepRef } from "../api-types.js";
import { RemoteProgress } from "./progress.js";

const step = (index: number): StepRef => ({ id: `s0.${index}`, stage: "0", stageIndex: 0, index, total: 1, instruction: index ? "RUN x" : "FROM b", line: index + 1, label: `[${index + 1}/2]` });
const t = timestampFromDate(new Date());
const vertex = (digest: string, o: { started?: boolean; completed?: boolean; cached?: boolean }) =>
  create(control.VertexSchema, { digest, name: digest, ...(o.started ? { started: t } : {}), ...(o.completed ? { completed: t } : {}), cached: o.cached ?? false });

describe("Control.Status → build events", () => {
  it("counts a step as cached when its vertex was once reported cached, though later updates (layers fetched from an imported cache) complete it without the flag", () => {
    const events: BuildEvent[] = [];
    const run = { step: step(1), vertex: {} as never };
    const p = new RemoteProgress([run], () => "sha256:run", (e) => events.push(e));
    // The order buildkitd v0.32 sends for a RUN loaded from --cache-from type=local.
    for (const v of [{ started: true, cached: true }, { started: true }, { started: true, completed: true }, { started: true, completed: true, cached: true }]) {
      p.update(create(control.StatusResponseSchema, { vertexes: [vertex("sha256:run", v)] }));
    }
    expect(events.map((e) => e.type)).toEqual(["step-start", "step-cached"]);
    expect(p.stepResults().map((r) => [r.status, r.cached])).toEqual([["cached", true]]);
  });

  it("a vertex never reported cached ran", () => {
    const events: BuildEvent[] = [];
    const p = new RemoteProgress([{ step: step(1), vertex: {} as never }], () => "sha256:run", (e) => events.push(e));
    for (const v of [{ started: true }, { started: true, completed: true }]) p.update(create(control.StatusResponseSchema, { vertexes: [vertex("sha256:run", v)] }));
    expect(p.stepResults().map((r) => [r.status, r.cached])).toEqual([["ran", false]]);
  });
});
