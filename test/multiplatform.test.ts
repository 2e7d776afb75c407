// Multi-platform builds (issue 15) against real components: the base is a two-platform
// busybox index in a real registry, foreign RUN steps run under QEMU user emulation
// (qemu-user-static in binfmt_misc), and what is built is read back by skopeo, unpacked by
// umoci and run by runc (the arm64 image through the same emulation).
// Needs root, docker-registry, skopeo, umoci, runc, jq, qemu-user-static.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildEvent, type StepRef } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry, type RunningRegistry } from "./support/registry.js";
import { pushMultiarchBase } from "./support/multiarch-base.js";

const PLATFORMS = "linux/amd64,linux/arm64";

/** Every platform ARG, in a build-platform stage, a per-target cross stage and the final stage. */
const dockerfile = (base: string) => `
FROM --platform=$BUILDPLATFORM ${base} AS tools
ARG BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
RUN echo "tools $(uname -m) $BUILDPLATFORM $BUILDOS $BUILDARCH [$BUILDVARIANT]" > /tools.txt

FROM --platform=$BUILDPLATFORM ${base} AS cross
ARG TARGETARCH
COPY $TARGETARCH.conf /arch.conf
RUN echo "cross $(uname -m) for $TARGETARCH" > /cross.txt

FROM ${base}
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM
COPY --from=tools /tools.txt /
COPY --from=cross /cross.txt /
RUN echo "final $(uname -m) $TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] $BUILDPLATFORM" > /final.txt
RUN echo 1 > /r1
CMD ["cat", "/tools.txt", "/cross.txt", "/final.txt"]
`;

const EXPECTED: Record<string, string> = {
  amd64: "tools x86_64 linux/amd64 linux amd64 []\ncross x86_64 for amd64\nfinal x86_64 linux/amd64 linux amd64 [] linux/amd64\n",
  arm64: "tools x86_64 linux/amd64 linux amd64 []\ncross x86_64 for arm64\nfinal aarch64 linux/arm64 linux arm64 [] linux/amd64\n",
};

function skopeoRaw(ref: string): any {
  return JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
}

/** The image `ref` copied out of the registry, unpacked by umoci and run by runc: its stdout. */
function runWithRunc(work: string, ref: string, name: string): string {
  const layout = path.join(work, `layout-${name}`);
  const bundle = path.join(work, `bundle-${name}`);
  execFileSync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${layout}:1`], { stdio: "pipe" });
  execFileSync("umoci", ["unpack", "--image", `${layout}:1`, bundle], { stdio: "pipe" });
  const cfgPath = path.join(bundle, "config.json");
  const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
  cfg.process.terminal = false;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  return execFileSync("runc", ["run", `tbuild-mp-${name}-${process.pid}`], { cwd: bundle, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
}

const ranSteps = (events: BuildEvent[]) => events.filter((e): e is Extract<BuildEvent, { type: "step-done" }> => e.type === "step-done" && e.status === "ran").map((e) => e.step);
const runs = (steps: StepRef[], text: string) => steps.filter((s) => s.instruction.startsWith("RUN") && s.instruction.includes(text));

describe("multi-platform builds", () => {
  let env: BuildEnv;
  let registry: RunningRegistry;
  let base: string;
  let ctx: string;
  beforeAll(async () => {
    execFileSync("bash", [path.join(__dirname, "../scripts/setup-emulation.sh"), "aarch64", "arm"], { stdio: "pipe" });
    env = await makeBuildEnv();
    registry = await startRegistry();
    base = pushMultiarchBase(registry.host);
    ctx = env.context({ Dockerfile: dockerfile(base), "amd64.conf": "a1\n", "arm64.conf": "r1\n" });
  });
  afterAll(async () => {
    await registry?.stop();
    env?.dispose();
  });

  it("runs a RUN of a foreign target under emulation, from the arm64 image of the index", async () => {
    const out = path.join(env.work, "arm64-out");
    const c = env.context({ Dockerfile: `FROM ${base}\nARG TARGETARCH TARGETVARIANT\nRUN echo "$(uname -m) $TARGETARCH $TARGETVARIANT" > /m\n` });
    const { result } = await env.run({ context: c, platform: "linux/arm64", outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "m"), "utf8")).toBe("aarch64 arm64 \n");
    expect(result.config.architecture).toBe("arm64");
  });

  it.each(["unshare", "runc"] as const)("keeps the sandbox's rules for an emulated RUN (%s executor: seccomp, capabilities, read-only /proc/sys)", async (executor) => {
    const runcEnv = await makeBuildEnv({ executor });
    try {
      const out = path.join(runcEnv.work, "runc-out");
      const c = runcEnv.context({
        Dockerfile: `FROM ${base}\nRUN uname -m > /m && grep CapEff /proc/self/status > /caps && (unshare -U true 2>/dev/null && echo allowed || echo refused) > /userns && ((echo x > /proc/sys/kernel/hostname) 2>/dev/null && echo writable || echo read-only) > /procsys\n`,
      });
      await runcEnv.run({ context: c, platform: "linux/arm64", outputs: [{ type: "local", dest: out }] });
      expect(readFileSync(path.join(out, "m"), "utf8")).toBe("aarch64\n");
      // Docker's 14 capabilities, no user namespaces (seccomp), /proc/sys read-only.
      expect(readFileSync(path.join(out, "caps"), "utf8")).toMatch(/^CapEff:\s+00000000a80425fb\n$/);
      expect(readFileSync(path.join(out, "userns"), "utf8")).toBe("refused\n");
      expect(readFileSync(path.join(out, "procsys"), "utf8")).toBe("read-only\n");
    } finally {
      runcEnv.dispose();
    }
  });

  it("builds both platforms into one index: pushed, inspected by skopeo, each image run by runc", async () => {
    const ref = `${registry.host}/tbuild/multi:1`;
    const { result, events } = await env.run({ context: ctx, platform: PLATFORMS, tags: ["multi:1"], outputs: [{ type: "registry", name: ref }, { type: "store" }] });
    expect(result.index?.manifests.map((m) => m.platform)).toEqual([{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }]);
    expect(result.index?.manifests.map((m) => m.config.architecture)).toEqual(["amd64", "arm64"]);

    const index = skopeoRaw(ref);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m: any) => m.platform)).toEqual([{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }]);
    const rawIndex = execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
    expect(result.outputs[0]!.manifestDigest).toBe(`sha256:${createHash("sha256").update(rawIndex).digest("hex")}`);
    for (const m of index.manifests) {
      const arch = m.platform.architecture as string;
      const manifest = skopeoRaw(`${registry.host}/tbuild/multi@${m.digest}`);
      const config = JSON.parse(execFileSync("skopeo", ["inspect", "--config", "--raw", "--tls-verify=false", `docker://${registry.host}/tbuild/multi@${m.digest}`], { encoding: "utf8" }));
      expect(manifest.layers.length).toBeGreaterThan(1);
      expect(config.architecture).toBe(arch);
      expect(runWithRunc(env.work, `${registry.host}/tbuild/multi@${m.digest}`, arch)).toBe(EXPECTED[arch]);
    }

    // The build-platform stage without TARGET* ran once for both targets, natively; the one
    // with TARGETARCH once per target, natively too; the final stage once per target.
    const ran = ranSteps(events);
    expect(runs(ran, "tools").map((s) => s.platform)).toEqual(["linux/amd64"]);
    expect(runs(ran, "cross").map((s) => s.platform).sort()).toEqual(["linux/amd64", "linux/amd64->linux/arm64"]);
    expect(runs(ran, "final").map((s) => s.platform).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(runs(ran, "cross").find((s) => s.platform === "linux/amd64->linux/arm64")?.label).toMatch(/^\[linux\/amd64->linux\/arm64 cross 4\/4\] RUN/);
  });

  it("gives the amd64 image of the index the manifest a single-platform build makes", async () => {
    const multi = await env.run({ context: ctx, platform: PLATFORMS });
    const single = await env.run({ context: ctx, platform: "linux/amd64" });
    expect(single.result.manifestDigest).toBe(multi.result.index!.manifests[0]!.manifestDigest);
    expect(single.result.steps.every((s) => s.cached)).toBe(true);
    // Not only through the cache: two empty stores, SOURCE_DATE_EPOCH, the same bytes.
    const fresh = async (name: string, platform: string) => {
      const h = build({ context: ctx, platform, root: path.join(env.work, name), buildArgs: { SOURCE_DATE_EPOCH: "1700000000" } });
      for await (const _ of h);
      return h.result;
    };
    const [m, s1] = [await fresh("fresh-multi", PLATFORMS), await fresh("fresh-single", "linux/amd64")];
    expect(s1.steps.filter((s) => s.status === "ran").length).toBeGreaterThan(3);
    expect(m.index!.manifests[0]!.manifestDigest).toBe(s1.manifestDigest);
    expect(m.index!.manifests[0]!.imageId).toBe(s1.imageId);
  });

  it("rebuilds both platforms fully cached, and reruns only the arm64 path when its input changes", async () => {
    const again = await env.run({ context: ctx, platform: PLATFORMS });
    expect(again.result.steps.length).toBeGreaterThan(0);
    expect(again.result.steps.filter((s) => !s.cached)).toEqual([]);
    expect(ranSteps(again.events)).toEqual([]);

    // arm64.conf is read by the arm64 target's cross stage only: what reruns is its COPY and
    // RUN (natively, for arm64) and the arm64 final stage's steps after its COPY --from.
    writeFileSync(path.join(ctx, "arm64.conf"), "r2\n");
    const changed = await env.run({ context: ctx, platform: PLATFORMS });
    const ran = ranSteps(changed.events);
    expect(ran.map((s) => `${s.platform} ${s.instruction}`)).toEqual(
      expect.arrayContaining(["linux/amd64->linux/arm64 COPY $TARGETARCH.conf /arch.conf", "linux/arm64 RUN echo 1 > /r1"]),
    );
    expect(ran.filter((s) => !s.platform!.endsWith("linux/arm64"))).toEqual([]);
  });

  it("builds linux/arm/v7 from the index's arm/v5 image (v7 runs v5, as containerd matches), under qemu-arm", async () => {
    const out = path.join(env.work, "armv7-out");
    const c = env.context({ Dockerfile: `FROM ${base}\nARG TARGETPLATFORM TARGETVARIANT\nRUN echo "$(uname -m) $TARGETPLATFORM $TARGETVARIANT" > /m\n` });
    const { result } = await env.run({ context: c, platform: "linux/arm64,linux/arm/v7", outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "linux_arm_v7/m"), "utf8")).toBe("armv7l linux/arm/v7 v7\n");
    expect(readFileSync(path.join(out, "linux_arm64/m"), "utf8")).toBe("aarch64 linux/arm64 \n");
    expect(result.index!.manifests.map((m) => m.platform)).toEqual([{ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "arm", variant: "v7" }]);
    // The base's arm/v5 image it was built from (its config says so; the index entry says v7).
    expect(result.index!.manifests[1]!.config).toMatchObject({ architecture: "arm", variant: "v5" });
  });

  it("fails the build with the failing target's step, and stops the other target", async () => {
    const c = env.context({ Dockerfile: `FROM ${base}\nARG TARGETARCH\nRUN [ "$TARGETARCH" != arm64 ] || exit 3\nRUN sleep 30\n` });
    const h = build({ context: c, platform: PLATFORMS, root: env.root });
    const events: BuildEvent[] = [];
    for await (const e of h) events.push(e);
    const err = await h.result.catch((e: Error) => e);
    expect(err).toMatchObject({ name: "StepFailedError", exitCode: 3 });
    expect((err as { step: StepRef }).step.platform).toBe("linux/arm64");
    // amd64's long step was stopped, not finished (nor reported as a second failure).
    expect(events.filter((e) => e.type === "step-done" && e.step.instruction === "RUN sleep 30")).toEqual([]);
    expect(events.filter((e) => e.type === "step-error").map((e) => (e as { step: StepRef }).step.platform)).toEqual(["linux/arm64"]);
  });

  it("writes an index into an OCI archive, a directory per platform for local and tar, and refuses a docker archive", async () => {
    const archive = path.join(env.work, "multi-oci.tar");
    const local = path.join(env.work, "multi-local");
    const rootfsTar = path.join(env.work, "multi-rootfs.tar");
    const { result } = await env.run({
      context: ctx,
      platform: PLATFORMS,
      tags: ["multi:oci"],
      outputs: [{ type: "oci", dest: archive }, { type: "local", dest: local }, { type: "tar", dest: rootfsTar }, { type: "oci-layout", dest: path.join(env.work, "multi-layout") }],
    });
    const fromLayout = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci:${path.join(env.work, "multi-layout")}:oci`], { encoding: "utf8" }));
    expect(fromLayout.manifests.map((m: any) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    // type=tar: the same directory per platform, in one tarball.
    const arm64Final = execFileSync("tar", ["-xOf", rootfsTar, "linux_arm64/final.txt"], { encoding: "utf8" });
    expect(arm64Final).toBe(EXPECTED.arm64!.split("\n")[2] + "\n");
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", `oci-archive:${archive}`], { encoding: "utf8" }));
    expect(raw.manifests.map((m: any) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    expect(result.outputs[0]!.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    for (const arch of ["amd64", "arm64"]) {
      expect(readFileSync(path.join(local, `linux_${arch}`, "final.txt"), "utf8")).toBe(EXPECTED[arch]!.split("\n")[2] + "\n");
      // An absolute symlink moves under its platform's directory, as BuildKit's exporters write
      // it through fsutil's SubDirFS (checked against buildkitd v0.32.2): /bin/sh → /linux_arm64/bin/busybox.
      expect(readlinkSync(path.join(local, `linux_${arch}`, "bin/sh"))).toBe(`/linux_${arch}/bin/busybox`);
    }
    expect(execFileSync("tar", ["-tvf", rootfsTar, "linux_arm64/bin/sh"], { encoding: "utf8" })).toMatch(/linux_arm64\/bin\/sh -> \/linux_arm64\/bin\/busybox/);
    // skopeo picks the arm64 image out of the archive's index; umoci unpacks it.
    const layout = path.join(env.work, "multi-oci-arm64");
    const bundle = path.join(env.work, "multi-oci-bundle");
    execFileSync("skopeo", ["--override-arch", "arm64", "copy", "--quiet", `oci-archive:${archive}`, `oci:${layout}:1`], { stdio: "pipe" });
    execFileSync("umoci", ["unpack", "--image", `${layout}:1`, bundle], { stdio: "pipe" });
    expect(readFileSync(path.join(bundle, "rootfs/final.txt"), "utf8")).toBe(EXPECTED.arm64!.split("\n")[2] + "\n");

    const err = await env.run({ context: ctx, platform: PLATFORMS, outputs: [{ type: "docker", dest: path.join(env.work, "d.tar") }] }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: "BuildOptionError" });
    expect((err as Error).message).toMatch(/docker exporter cannot export a multi-platform build/);
  });

  it("builds a Debian base for both platforms: dpkg in the arm64 image is arm64's, run under emulation", { timeout: 1_500_000 }, async () => {
    // The Debian index: debootstrap for amd64, and --foreign + a second stage under qemu for arm64.
    const debian = pushMultiarchBase(registry.host, "library/debian-multi:bookworm", "debian");
    const out = path.join(env.work, "debian-out");
    const c = env.context({ Dockerfile: `FROM ${debian}\nRUN dpkg --print-architecture > /dpkg-arch && uname -m >> /dpkg-arch\n` });
    await env.run({ context: c, platform: PLATFORMS, outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "linux_amd64/dpkg-arch"), "utf8")).toBe("amd64\nx86_64\n");
    expect(readFileSync(path.join(out, "linux_arm64/dpkg-arch"), "utf8")).toBe("arm64\naarch64\n");
  });
});
