// SOURCE_DATE_EPOCH in tbuild's environment becomes the build arg, as buildx does
// (commands/build.go: only when no --build-arg sets it, and only when not empty).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildFlags, planBuild } from "./build-plan.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync("/dev/shm/tbuild-plan-epoch-");
  mkdirSync(join(dir, "ctx"));
  writeFileSync(join(dir, "ctx/Dockerfile"), "FROM base\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flags: BuildFlags = { cache: true, progress: "auto", executor: "auto", snapshotter: "auto" };
const plan = (env: NodeJS.ProcessEnv, buildArg?: string[]) =>
  planBuild("ctx", { ...flags, ...(buildArg ? { buildArg } : {}) }, { cwd: dir, env, readStdin: () => "", explicitBuild: true }).options.buildArgs;

describe("SOURCE_DATE_EPOCH from the environment", () => {
  it("is passed as the build arg", () => {
    expect(plan({ SOURCE_DATE_EPOCH: "1700000000" })).toEqual({ SOURCE_DATE_EPOCH: "1700000000" });
    expect(plan({ SOURCE_DATE_EPOCH: "1700000000" }, ["A=1"])).toEqual({ A: "1", SOURCE_DATE_EPOCH: "1700000000" });
  });

  it("yields to an explicit --build-arg and is ignored when empty", () => {
    expect(plan({ SOURCE_DATE_EPOCH: "1700000000" }, ["SOURCE_DATE_EPOCH=5"])).toEqual({ SOURCE_DATE_EPOCH: "5" });
    expect(plan({ SOURCE_DATE_EPOCH: "" })).toBeUndefined();
    expect(plan({})).toBeUndefined();
  });
});
