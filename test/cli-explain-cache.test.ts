// `tbuild build` and cache-miss reasons: plain progress prints `cache miss: <reason>` under
// each step that runs, rawjson carries `step-miss` events, and `--explain-cache` prints one
// table row per step (hit source, miss reason, key inputs). Needs root (the build sandbox).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, rawEvents } from "../packages/cli/test-support/build-env.js";

let env: BuildEnv;

beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-explain");
  env.write({ "app/Dockerfile": "FROM busybox\nARG V=1\nCOPY a.txt b.txt /\nRUN echo $V > /v\n", "app/a.txt": "a\n", "app/b.txt": "b\n" });
}, 300_000);
afterAll(() => env?.cleanup());

describe("tbuild build: why it missed", { timeout: 300_000 }, () => {
  it("prints the reason of each miss in plain progress and in rawjson", async () => {
    const first = await env.run(["build", "--progress", "plain", "app"]);
    expect(first.code, first.stderr).toBe(0);
    const header = (instr: string, out: string) => new RegExp(`^(#\\d+) \\[\\d/4\\] ${instr}$`, "m").exec(out)![1];
    expect(first.stderr).toContain(`${header("COPY a.txt b.txt /", first.stderr)} cache miss: not in cache (first build)\n`);
    expect(first.stderr).toContain(`${header("RUN echo \\$V > /v", first.stderr)} cache miss: parent changed (step 3)\n`);

    writeFileSync(join(env.dir, "app/b.txt"), "b2\n");
    const raw = await env.run(["build", "--progress", "rawjson", "app"]);
    const missed = rawEvents(raw.stderr).filter((e) => e.type === "step-miss");
    expect(missed.map((e) => e.reason)).toEqual(["context files changed: b.txt", "parent changed (step 3)"]);
    expect(missed[0]!.changed).toEqual([{ input: "sourceKey", text: "context files changed: b.txt", items: ["b.txt"] }]);
  });

  it("--explain-cache prints a row per step: source of a hit, reason of a miss, key inputs", async () => {
    const r = await env.run(["build", "--progress", "quiet", "--explain-cache", "--build-arg", "V=2", "app"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^STEP\s+CACHE\s+SOURCE \/ REASON\s+KEY INPUTS$/);
    expect(lines.slice(1).map((l) => l.split(/\s{3,}/).slice(0, 3))).toEqual([
      ["[1/4] FROM busybox", "base", "at hand"],
      ["[2/4] ARG V=1", "config", "replayed (no cache entry)"],
      ["[3/4] COPY a.txt b.txt /", "hit", "local store"],
      ["[4/4] RUN echo $V > /v", "miss", "ARG V changed"],
    ]);
    expect(lines[1]).toMatch(/image=busybox digest=sha256:[0-9a-f]{12}$/);
    expect(lines[3]).toMatch(/parent=sha256:[0-9a-f]{12} sources=\[a\.txt,b\.txt\] sourceKey=\{context=sha256:[0-9a-f]{12}\}/);
    expect(lines[4]).toMatch(/env=\[\d items\]/);
  });
});
