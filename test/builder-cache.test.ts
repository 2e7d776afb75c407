// The layer cache end to end: a rebuild is fully cached and byte-identical; a changed
// context file invalidates exactly the steps that read it and those after them; --no-cache
// and no-cache filters force reruns; metadata changes do not rerun RUN steps. Runs on both
// sandbox executors. Needs root.
import { writeFileSync, utimesSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildEvent } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

const cachedSteps = (events: BuildEvent[]) =>
  events.filter((e) => e.type === "step-cached").map((e) => (e as { step: { instruction: string } }).step.instruction);
const ranSteps = (events: BuildEvent[]) =>
  events
    .filter((e) => e.type === "step-done" && !/^(FROM|ENV|LABEL|ARG|CMD|USER|EXPOSE)\b/i.test((e as { step: { instruction: string } }).step.instruction))
    .map((e) => (e as { step: { instruction: string } }).step.instruction);

describe.each(["runc", "unshare"] as const)("layer cache (%s executor)", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  const dockerfile = [
    "FROM busybox:latest",
    "WORKDIR /app",
    "COPY a.txt ./",
    "RUN cat a.txt > from-a.txt",
    "COPY b.txt ./",
    "RUN cat b.txt > from-b.txt && date +%s%N > stamp",
    'CMD ["cat", "/app/from-b.txt"]',
  ].join("\n");

  it("rebuilds fully cached with the same digests, and reruns only what a changed file affects", async () => {
    const ctx = env.context({ Dockerfile: dockerfile, "a.txt": "a1\n", "b.txt": "b1\n" });
    const first = await env.run({ context: ctx, tags: ["cachetest:1"] });
    expect(cachedSteps(first.events)).toEqual([]);

    const second = await env.run({ context: ctx, tags: ["cachetest:1"] });
    expect(ranSteps(second.events)).toEqual([]);
    expect(cachedSteps(second.events)).toHaveLength(5);
    expect(second.result.imageId).toBe(first.result.imageId);
    expect(second.result.manifestDigest).toBe(first.result.manifestDigest);

    // mtime alone changes nothing
    utimesSync(path.join(ctx, "a.txt"), new Date(), new Date(Date.now() + 5000));
    const touched = await env.run({ context: ctx });
    expect(ranSteps(touched.events)).toEqual([]);
    expect(touched.result.imageId).toBe(first.result.imageId);

    // b.txt changes: only COPY b.txt and the RUN after it rerun
    writeFileSync(path.join(ctx, "b.txt"), "b2\n");
    const third = await env.run({ context: ctx });
    expect(ranSteps(third.events)).toEqual(["COPY b.txt ./", "RUN cat b.txt > from-b.txt && date +%s%N > stamp"]);
    expect(third.result.imageId).not.toBe(first.result.imageId);

    // a.txt changes: everything from COPY a.txt on reruns
    writeFileSync(path.join(ctx, "a.txt"), "a2\n");
    const fourth = await env.run({ context: ctx });
    expect(ranSteps(fourth.events)).toEqual(["COPY a.txt ./", "RUN cat a.txt > from-a.txt", "COPY b.txt ./", "RUN cat b.txt > from-b.txt && date +%s%N > stamp"]);
  });

  it("--no-cache reruns everything; a no-cache filter reruns only that stage", async () => {
    const ctx = env.context({
      Dockerfile: ["FROM busybox AS one", "RUN echo one > /one", "FROM busybox AS two", "COPY --from=one /one /one", "RUN echo two > /two"].join("\n"),
    });
    await env.run({ context: ctx });
    const all = await env.run({ context: ctx, noCache: true });
    expect(cachedSteps(all.events)).toEqual([]);
    const filtered = await env.run({ context: ctx, noCacheFilter: ["two"] });
    expect(cachedSteps(filtered.events)).toEqual(["RUN echo one > /one"]);
  });

  it("gives the same digests from scratch with SOURCE_DATE_EPOCH", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nCOPY f.txt /f.txt\nRUN mkdir -p /out && echo made > /out/m\nENV X=1\n", "f.txt": "f\n" });
    const args = { SOURCE_DATE_EPOCH: "1700000000" };
    const a = await env.run({ context: ctx, buildArgs: args });
    await new Promise((r) => setTimeout(r, 1100));
    const b = await env.run({ context: ctx, buildArgs: args, noCache: true });
    expect(ranSteps(b.events)).toEqual(["COPY f.txt /f.txt", "RUN mkdir -p /out && echo made > /out/m"]);
    expect(b.result.manifestDigest).toBe(a.result.manifestDigest);
    expect(a.result.config.created).toBe(new Date(1700000000 * 1000).toISOString());
  });

  it("a LABEL or ENV change before a RUN does not rerun it unless the RUN sees it", async () => {
    const make = (label: string, env2: string) =>
      env.context({ Dockerfile: ["FROM busybox", `LABEL version=${label}`, "RUN echo stable > /s", `ENV MODE=${env2}`, "RUN echo $MODE > /m"].join("\n") });
    await env.run({ context: make("1", "a") });
    const relabelled = await env.run({ context: make("2", "a") });
    expect(ranSteps(relabelled.events)).toEqual([]);
    const changedEnv = await env.run({ context: make("2", "b") });
    expect(ranSteps(changedEnv.events)).toEqual(["RUN echo $MODE > /m"]);
  });
});
