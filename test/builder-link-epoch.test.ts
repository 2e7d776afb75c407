// Cache reuse that must not change results: a COPY --link layer is reused whatever is below
// it (its key has no parent), and with SOURCE_DATE_EPOCH a build that finds layers cached by
// a build without it gives the digest a clean build gives. Needs root (sandboxed RUN steps).
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildEvent } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

const cachedSteps = (events: BuildEvent[]) =>
  events.filter((e) => e.type === "step-cached").map((e) => (e as { step: { instruction: string } }).step.instruction);

describe("cache reuse", () => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv();
  });
  afterAll(() => env?.dispose());

  it("reuses a COPY --link layer after an earlier step changed", async () => {
    const df = (n: number) => `FROM busybox\nRUN echo ${n} > /a\nCOPY --link f /f\n`;
    const first = await env.run({ context: env.context({ Dockerfile: df(1), f: "linked\n" }) });
    const out = path.join(env.work, "link-out");
    const second = await env.run({ context: env.context({ Dockerfile: df(2), f: "linked\n" }), outputs: [{ type: "local", dest: out }] });
    expect(cachedSteps(second.events)).toEqual(["COPY --link f /f"]);
    expect(second.result.config.rootfs.diff_ids.at(-1)).toBe(first.result.config.rootfs.diff_ids.at(-1));
    expect(readFileSync(path.join(out, "a"), "utf8")).toBe("2\n");
    expect(readFileSync(path.join(out, "f"), "utf8")).toBe("linked\n");
    // The reused layer is a complete layer of the new chain: a step on top of it sees it.
    const third = await env.run({ context: env.context({ Dockerfile: df(3) + "RUN cat /f /a > /both\n", f: "linked\n" }), outputs: [{ type: "local", dest: out + "3" }] });
    expect(cachedSteps(third.events)).toEqual(["COPY --link f /f"]);
    expect(readFileSync(path.join(out + "3", "both"), "utf8")).toBe("linked\n3\n");
  });

  it("gives the same digest with SOURCE_DATE_EPOCH whether layers come from a build without it or not", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo hi > /x && mkdir -p /d && touch /d/t\nCOPY f /f\nWORKDIR /w\n", f: "f\n" });
    await env.run({ context: ctx });
    const buildArgs = { SOURCE_DATE_EPOCH: "1700000000" };
    const reused = await env.run({ context: ctx, buildArgs });
    const clean = await env.run({ context: ctx, buildArgs, noCache: true });
    expect(reused.result.config.rootfs.diff_ids).toEqual(clean.result.config.rootfs.diff_ids);
    expect(reused.result.manifestDigest).toBe(clean.result.manifestDigest);
  });
});
