// `tbuild build --platform a,b` and the image commands on the index it makes, through the
// bundled CLI, checked with skopeo: images/inspect show the index and each manifest,
// --push sends the index and every manifest, -o type=local writes a directory per
// platform, -o type=docker is refused (exit 2, one paragraph), save --platform picks one,
// compose's build.platforms builds the index too.
// Needs root, docker-registry, skopeo, jq, qemu-user-static (arm64 steps run emulated).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path, { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, rawEvents } from "../packages/cli/test-support/build-env.js";
import { startRegistry, type RunningRegistry } from "./support/registry.js";
import { pushMultiarchBase } from "./support/multiarch-base.js";

let env: BuildEnv;
let reg: RunningRegistry;
let base: string;

beforeAll(async () => {
  execFileSync("bash", [path.join(__dirname, "../scripts/setup-emulation.sh"), "aarch64"], { stdio: "pipe" });
  reg = await startRegistry();
  base = pushMultiarchBase(reg.host);
  env = await createBuildEnv("tbuild-cli-multiplatform");
  env.write({
    "app/Dockerfile": [
      "FROM --platform=$BUILDPLATFORM busybox AS tools",
      "RUN echo tools > /tools",
      `FROM ${base}`,
      "ARG TARGETPLATFORM",
      "COPY --from=tools /tools /",
      'RUN echo "$(uname -m) $TARGETPLATFORM" > /arch',
      'CMD ["cat", "/arch"]',
      "",
    ].join("\n"),
  });
}, 300_000);
afterAll(async () => {
  await reg?.stop();
  env?.cleanup();
});

const raw = (ref: string) => JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", ref], { encoding: "utf8" }));

describe("tbuild build --platform a,b", { timeout: 300_000 }, () => {
  it("builds an index, pushes it with every manifest, and shows it in images and inspect", async () => {
    const ref = `${reg.host}/cli/multi:1`;
    const b = await env.run(["build", "--progress", "rawjson", "--platform", "linux/amd64,linux/arm64", "-t", ref, "--push", "app"]);
    expect(b.code, b.stderr).toBe(0);
    // The build-platform stage's RUN ran once, for both targets; the final one once per target.
    const ran = rawEvents(b.stderr).filter((e) => e.type === "step-done" && e.status === "ran").map((e) => (e as any).step.label as string);
    expect(ran.filter((l) => l.includes("RUN echo tools"))).toEqual(["[linux/amd64 tools 2/2] RUN echo tools > /tools"]);
    expect(ran.filter((l) => l.includes("uname")).sort()).toEqual([
      '[linux/amd64 stage-1 4/5] RUN echo "$(uname -m) $TARGETPLATFORM" > /arch',
      '[linux/arm64 stage-1 4/5] RUN echo "$(uname -m) $TARGETPLATFORM" > /arch',
    ]);

    const index = raw(`docker://${ref}`);
    expect(index.manifests.map((m: any) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(["linux/amd64", "linux/arm64"]);
    for (const m of index.manifests) expect(raw(`docker://${reg.host}/cli/multi@${m.digest}`).layers.length).toBe(3);

    const images = await env.run(["images", "--format", "json", `${reg.host}/cli/multi`]);
    expect(images.code, images.stderr).toBe(0);
    expect(JSON.parse(images.stdout).Platforms).toEqual(["linux/amd64", "linux/arm64"]);
    const inspect = await env.run(["inspect", ref]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const [doc] = JSON.parse(inspect.stdout);
    expect(doc.Architecture).toBe("amd64");
    expect(doc.Index.Manifests.map((m: any) => [m.Platform, m.InStore])).toEqual([["linux/amd64", true], ["linux/arm64", true]]);
    expect(doc.Index.Manifests.map((m: any) => m.Digest)).not.toContain(undefined);

    // save: the whole index, or one platform of it.
    const all = join(env.dir, "all.tar");
    expect((await env.run(["save", "-o", all, ref])).code).toBe(0);
    const saved0 = raw(`oci-archive:${all}`);
    expect(saved0.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(saved0.manifests.map((m: any) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    const one = join(env.dir, "arm64.tar");
    const s = await env.run(["save", "--platform", "linux/arm64", "-o", one, ref]);
    expect(s.code, s.stderr).toBe(0);
    const saved = JSON.parse(execFileSync("skopeo", ["inspect", "--config", "--raw", `oci-archive:${one}`], { encoding: "utf8" }));
    expect(saved.architecture).toBe("arm64");
  });

  it("writes a directory per platform for -o type=local, and refuses -o type=docker", async () => {
    const out = join(env.dir, "local-out");
    const l = await env.run(["build", "-q", "--platform", "linux/arm64,linux/amd64", "-o", `type=local,dest=${out}`, "app"]);
    expect(l.code, l.stderr).toBe(0);
    expect(readFileSync(join(out, "linux_arm64/arch"), "utf8")).toBe("aarch64 linux/arm64\n");
    expect(readFileSync(join(out, "linux_amd64/arch"), "utf8")).toBe("x86_64 linux/amd64\n");

    const d = await env.run(["build", "--platform", "linux/amd64,linux/arm64", "-o", `type=docker,dest=${join(env.dir, "d.tar")}`, "app"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/docker exporter cannot export a multi-platform build/);
    expect(d.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("builds compose's build.platforms into one index", async () => {
    env.write({ "compose/compose.yaml": ["services:", "  app:", "    image: composed-multi:1", "    build:", "      context: ../app", "      platforms: [linux/amd64, linux/arm64]", ""].join("\n") });
    const c = await env.run(["compose", "-f", join(env.dir, "compose/compose.yaml"), "build", "--progress", "plain"]);
    expect(c.code, c.stderr).toBe(0);
    const [doc] = JSON.parse((await env.run(["inspect", "composed-multi:1"])).stdout);
    expect(doc.Index.Manifests.map((m: any) => m.Platform)).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("fails a RUN for a platform without emulation with one paragraph naming it and the package (exit 1)", async () => {
    // scripts/setup-emulation.sh registers no mips64el: this platform has no emulation here.
    expect((await env.run(["import", "--platform", "linux/mips64le", env.busyboxTar, "mipsbox:1"])).code).toBe(0);
    env.write({ "mips/Dockerfile": "FROM mipsbox:1\nRUN true\n" });
    const r = await env.run(["build", "--platform", "linux/amd64,linux/mips64le", "mips"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RUN step for linux\/mips64le on this linux\/amd64 host: no qemu-mips64el entry in \/proc\/sys\/fs\/binfmt_misc\. Emulation needs Debian's qemu-user-static/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
