// Multi-platform builds (issue 15) against real components: the base is a two-platform
// busybox index in a real registry, foreign RUN steps run under QEMU user emulation
// (qemu-user-static in binfmt_misc), and what is built is read back by skopeo and run by
// runc. Needs root, docker-registry, skopeo, umoci, runc, qemu-user-static.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry, type RunningRegistry } from "./support/registry.js";
import { pushMultiarchBase } from "./support/multiarch-base.js";

describe("multi-platform builds", () => {
  let env: BuildEnv;
  let registry: RunningRegistry;
  let base: string;
  beforeAll(async () => {
    execFileSync("bash", [path.join(__dirname, "../scripts/setup-emulation.sh"), "aarch64"], { stdio: "pipe" });
    env = await makeBuildEnv();
    registry = await startRegistry();
    base = pushMultiarchBase(registry.host);
  });
  afterAll(async () => {
    await registry?.stop();
    env?.dispose();
  });

  it("runs a RUN of a foreign target under emulation, from the arm64 image of the index", async () => {
    const out = path.join(env.work, "arm64-out");
    const ctx = env.context({ Dockerfile: `FROM ${base}\nARG TARGETARCH TARGETVARIANT\nRUN echo "$(uname -m) $TARGETARCH $TARGETVARIANT" > /m\n` });
    const { result } = await env.run({ context: ctx, platform: "linux/arm64", outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "m"), "utf8")).toBe("aarch64 arm64 \n");
    expect(result.config.architecture).toBe("arm64");
  });
});
