import { describe, expect, it } from "vitest";
import type { BuildEvent } from "../builder-api.js";
import { simpleBuild, step } from "./fake-events.test-util.js";
import { PlainRenderer } from "./plain.js";
import { RawJsonRenderer } from "./rawjson.js";

function sink() {
  const chunks: string[] = [];
  return { out: { write: (s: string) => chunks.push(s) }, text: () => chunks.join("") };
}

describe("PlainRenderer", () => {
  it("prints BuildKit's plain log for a simple build", () => {
    const s = sink();
    const r = new PlainRenderer(s.out);
    for (const ev of simpleBuild()) r.event(ev);
    r.buildFinished({ imageId: "sha256:cccc", stored: true, tags: ["docker.io/library/app:latest"] });
    r.close();
    expect(s.text()).toBe(
      [
        "#1 [1/3] FROM base",
        "#1 CACHED",
        "",
        "#2 [2/3] RUN echo hello && echo world",
        "#2 0.190 hello",
        "#2 1.224 world",
        "#2 DONE 1.3s",
        "",
        "#3 [3/3] COPY . /app",
        "#3 DONE 0.0s",
        "",
        "#4 exporting to image",
        "#4 writing image sha256:cccc done",
        "#4 naming to docker.io/library/app:latest done",
        "#4 writing oci-archive /tmp/x.tar (manifest sha256:bbbb) done",
        "#4 DONE 0.1s",
        "",
        "1 warning found:",
        " - JSONArgsRecommended: JSON arguments recommended for CMD (line 5)",
        "",
      ].join("\n"),
    );
  });

  it("repeats a step's header when output switches between parallel steps", () => {
    const s = sink();
    const r = new PlainRenderer(s.out);
    const a = step("a", { stage: "builder", stageIndex: 0, index: 1, total: 9, instruction: "RUN make a" });
    const b = step("b", { stage: "1", stageIndex: 1, index: 2, total: 9, instruction: "RUN make b" });
    const evs: BuildEvent[] = [
      { type: "build-start", stages: [{ name: "builder", index: 0, steps: 9 }, { name: "1", index: 1, steps: 9 }], time: 0 },
      { type: "step-start", step: a, time: 0 },
      { type: "step-start", step: b, time: 0 },
      { type: "step-log", step: a, stream: "stdout", data: "a1\n", time: 1000 },
      { type: "step-log", step: b, stream: "stderr", data: "b1\n", time: 2000 },
      { type: "step-error", step: b, message: "exit code: 2", time: 2500 },
    ];
    for (const ev of evs) r.event(ev);
    expect(s.text().split("\n")).toEqual([
      "#1 [builder  2/10] RUN make a",
      "",
      "#2 [stage-1  3/10] RUN make b",
      "",
      "#1 [builder  2/10] RUN make a",
      "#1 1.000 a1",
      "",
      "#2 [stage-1  3/10] RUN make b",
      "#2 2.000 b1",
      "#2 ERROR: exit code: 2",
      "",
    ]);
  });

  it("flushes an unterminated last line when the step ends and keeps the last \\r segment", () => {
    const s = sink();
    const r = new PlainRenderer(s.out);
    const a = step("a");
    r.event({ type: "step-start", step: a, time: 0 });
    r.event({ type: "step-log", step: a, stream: "stdout", data: "10%\r50%\r100%\nno newline", time: 500 });
    r.event({ type: "step-done", step: a, durationMs: 600, time: 600 });
    expect(s.text()).toContain("#1 0.500 100%\n#1 0.600 no newline\n#1 DONE 0.6s\n");
  });

  it("labels steps with their source when several builds share it", () => {
    const s = sink();
    const r = new PlainRenderer(s.out);
    r.event({ type: "step-cached", step: step("x"), time: 0 }, "web");
    r.event({ type: "step-cached", step: step("x"), time: 0 }, "worker");
    expect(s.text()).toBe("#1 [web 2/4] RUN true\n#1 CACHED\n\n#2 [worker 2/4] RUN true\n#2 CACHED\n");
  });
});

describe("RawJsonRenderer", () => {
  it("prints one parseable event per line, tagged with its source", () => {
    const s = sink();
    const r = new RawJsonRenderer(s.out);
    const evs = simpleBuild();
    for (const ev of evs) r.event(ev, "web");
    r.close();
    const lines = s.text().trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(evs.length);
    expect(lines[0]).toEqual({ ...evs[0], source: "web" });
    expect(lines.map((l) => l.type)).toEqual(evs.map((e) => e.type));
  });
});
