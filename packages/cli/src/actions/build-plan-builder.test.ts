// --builder and TBUILD_BUILDER: where the build runs (the remote backend checks the address
// itself; the CLI refuses what is not an address at all, as a usage error).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { type BuildFlags, planBuild } from "./build-plan.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync("/dev/shm/tbuild-plan-builder-");
  mkdirSync(join(dir, "ctx"));
  writeFileSync(join(dir, "ctx/Dockerfile"), "FROM base\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const defaults: BuildFlags = { cache: true, progress: "auto", executor: "auto", snapshotter: "auto" };
const plan = (flags: Partial<BuildFlags>, env: NodeJS.ProcessEnv = {}) =>
  planBuild("ctx", { ...defaults, ...flags }, { cwd: dir, env, readStdin: () => "", explicitBuild: true });

describe("planBuild: --builder", () => {
  it("takes --builder, else TBUILD_BUILDER, else builds locally", () => {
    expect(plan({ builder: "docker://unix:///var/run/docker.sock" }).options.builder).toBe("docker://unix:///var/run/docker.sock");
    expect(plan({}, { TBUILD_BUILDER: "tcp://bk:1234,cacert=ca.pem" }).options.builder).toBe("tcp://bk:1234,cacert=ca.pem");
    expect(plan({ builder: "unix:///run/buildkit/buildkitd.sock" }, { TBUILD_BUILDER: "tcp://bk:1234" }).options.builder).toBe("unix:///run/buildkit/buildkitd.sock");
    expect(plan({}, { TBUILD_BUILDER: "" }).options.builder).toBeUndefined();
  });

  it("refuses something that is no builder address as a usage error", () => {
    expect(() => plan({ builder: "buildkitd:1234" })).toThrow(UsageError);
    expect(() => plan({ builder: "buildkitd:1234" })).toThrow(/expected unix:\/\/\/path, tcp:\/\/host:port/);
  });
});
