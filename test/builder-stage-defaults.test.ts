// What a stage starts with, as BuildKit's dockerfile2llb sets it up: a base config without
// PATH gets the default PATH (convert.go, "make sure that PATH is always set"), FROM scratch
// also WorkingDir "/" (image.go emptyImage), FROM words are shell-processed (quotes removed),
// and a RUN of a platform the host can neither run nor emulate fails before it runs.
// Needs root (sandboxed RUN steps).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRootfs } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Rewrites every image config of an OCI layout with `edit` (new blobs, new digests). */
function editLayoutConfigs(layout: string, edit: (config: { config?: Record<string, unknown> }) => void): void {
  const blob = (d: string) => path.join(layout, "blobs", ...d.split(":"));
  const put = (data: Buffer) => {
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    writeFileSync(blob(digest), data);
    return { digest, size: data.length };
  };
  const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8"));
  for (const desc of index.manifests) {
    const manifest = JSON.parse(readFileSync(blob(desc.digest), "utf8"));
    const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8"));
    edit(config);
    Object.assign(manifest.config, put(Buffer.from(JSON.stringify(config))));
    Object.assign(desc, put(Buffer.from(JSON.stringify(manifest))));
  }
  writeFileSync(path.join(layout, "index.json"), JSON.stringify(index));
}

describe("stage defaults", () => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv();
  });
  afterAll(() => env?.dispose());

  it("gives a base without PATH BuildKit's default PATH, in the config and in RUN", async () => {
    const layout = path.join(env.work, "nopath-layout");
    await env.run({ context: env.context({ Dockerfile: "FROM busybox\n" }), tags: ["nopath:1"], outputs: [{ type: "oci-layout", dest: layout }] });
    editLayoutConfigs(layout, (c) => {
      delete c.config!.Env;
    });
    const out = path.join(env.work, "nopath-out");
    const { result } = await env.run({
      context: env.context({ Dockerfile: 'FROM base\nENV A=1\nRUN echo "$PATH" > /path\n' }),
      buildContexts: { base: `oci-layout://${layout}:1` },
      outputs: [{ type: "local", dest: out }],
    });
    expect(result.config.config?.Env).toEqual([DEFAULT_PATH, "A=1"]);
    expect(readFileSync(path.join(out, "path"), "utf8")).toBe(DEFAULT_PATH.slice(5) + "\n");
  });

  it("keeps a base's own PATH and gives FROM scratch WorkingDir / and the default PATH", async () => {
    const own = await env.run({ context: env.context({ Dockerfile: "FROM busybox\nENV PATH=/opt/bin\n" }), tags: ["ownpath:1"] });
    const child = await env.run({ context: env.context({ Dockerfile: "FROM ownpath:1\n" }) });
    expect(child.result.config.config?.Env).toEqual(own.result.config.config?.Env);
    expect(child.result.config.config?.Env).toEqual(["PATH=/opt/bin"]);
    const scratch = await env.run({ context: env.context({ Dockerfile: "FROM scratch\nCOPY f /f\n", f: "x" }) });
    expect(scratch.result.config.config?.WorkingDir).toBe("/");
    expect(scratch.result.config.config?.Env).toEqual([DEFAULT_PATH]);
  });

  it("removes quotes from FROM words before resolving images and stages", async () => {
    const out = path.join(env.work, "quoted-out");
    const df = ['FROM "busybox" AS one', "RUN echo one > /one", "FROM 'busy'\"box:latest\"", 'FROM "one"', "RUN cat /one > /two"].join("\n");
    await env.run({ context: env.context({ Dockerfile: df }), outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "two"), "utf8")).toBe("one\n");
  });

  it("refuses a RUN of a platform with no emulation registered, and runs one of the host's under another target", async () => {
    // scripts/setup-emulation.sh registers no mips64el, so this platform has no emulation.
    await importRootfs({ tarPath: env.rootfsTar, ref: "mipsbox:1", root: env.root, platform: "linux/mips64le" });
    const err = await env.run({ context: env.context({ Dockerfile: "FROM --platform=linux/mips64le mipsbox:1\nRUN true\n" }) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/RUN step for linux\/mips64le .*no qemu-mips64el entry .*qemu-user-static/);
    // The usual cross-build pattern: a build-platform stage under a foreign target runs natively.
    const out = path.join(env.work, "cross-out");
    await env.run({
      context: env.context({ Dockerfile: "FROM --platform=$BUILDPLATFORM busybox AS build\nRUN echo built > /b\nFROM scratch\nCOPY --from=build /b /b\n" }),
      platform: "linux/arm64",
      outputs: [{ type: "local", dest: out }],
    });
    expect(readFileSync(path.join(out, "b"), "utf8")).toBe("built\n");
  });
});
