// Builds that meet a registry: an image pushed by the build (output type=registry) is read
// back by skopeo, and a build in an empty store FROM that image pulls it (then reuses the
// stored copy). Needs root, Debian's docker-registry and skopeo.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry } from "./support/registry.js";

describe("builds with a registry", () => {
  let env: BuildEnv;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  beforeAll(async () => {
    env = await makeBuildEnv();
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    env?.dispose();
  });

  it("pushes a built image, and pulls it as the base of a build in an empty store", async () => {
    const ref = `${registry.host}/tbuild/base:1`;
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo pushed > /pushed\n" });
    const { result } = await env.run({ context: ctx, outputs: [{ type: "registry", name: ref }] });
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(inspected.Layers).toHaveLength(result.manifest.layers.length);

    const root = path.join(env.work, "empty-store");
    const child = env.context({ Dockerfile: `FROM ${ref}\nRUN cat /pushed > /seen\n` });
    const out = path.join(env.work, "pulled-out");
    const run = async () => {
      const h = build({ context: child, root, outputs: [{ type: "local", dest: out }] });
      for await (const _ of h);
      return h.result;
    };
    await run();
    expect(readFileSync(path.join(out, "seen"), "utf8")).toBe("pushed\n");
    // The pulled image is in the store now: a rebuild works with the registry gone.
    await registry.stop();
    const again = await run();
    expect(again.steps.every((s) => s.cached)).toBe(true);
  });
});
