// Builder features end to end: failures reported with their step, RUN --mount types,
// secrets that never reach the image, multi-stage targets and parallel stages, ONBUILD
// triggers from a stored image, FROM oci-layout://, outputs read back by skopeo and
// umoci. Runs on both sandbox executors. Needs root, skopeo and umoci.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StepFailedError, StepError, type BuildEvent } from "@tbuild/builder";
import { DockerfileSyntaxError } from "@tbuild/parser";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 50_000_000 && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

describe.each(["runc", "unshare"] as const)("builder features (%s executor)", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  it("reports a failing RUN with its step, command, exit code and last output", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo going && echo broken >&2 && exit 3\n" });
    const err = await env.run({ context: ctx }).catch((e) => e);
    expect(err).toBeInstanceOf(StepFailedError);
    expect(err.exitCode).toBe(3);
    expect(err.step.line).toBe(2);
    expect(err.outputTail.join("\n")).toContain("broken");
    expect(err.message).toContain("exit code: 3");
  });

  it("reports a missing COPY source and a broken Dockerfile clearly", async () => {
    const missing = await env.run({ context: env.context({ Dockerfile: "FROM busybox\nCOPY nope.txt /x\n" }) }).catch((e) => e);
    expect(missing).toBeInstanceOf(StepError);
    expect(missing.step.line).toBe(2);
    expect(missing.message).toMatch(/nope\.txt/);
    const broken = await env.run({ context: env.context({ Dockerfile: "FROM busybox\nFOO bar\n" }) }).catch((e) => e);
    expect(broken).toBeInstanceOf(DockerfileSyntaxError);
    expect(broken.line).toBe(2);
  });

  it("refuses RUN --security=insecure without the entitlement and runs it privileged with it", async () => {
    const df = "FROM busybox\nRUN --security=insecure grep -E '^(Seccomp|CapEff):' /proc/self/status > /status && mkdir /m && mount -t tmpfs none /m && echo mounted > /ok\n";
    const refused = await env.run({ context: env.context({ Dockerfile: df }) }).catch((e) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused.message)).toMatch(/security\.insecure/);
    const ctx = env.context({ Dockerfile: df });
    const out = path.join(env.work, "priv-out");
    await env.run({ context: ctx, allow: ["security.insecure"], outputs: [{ type: "local", dest: out }] });
    const ours = /^CapEff:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1];
    expect(readFileSync(`${out}/status`, "utf8")).toBe(`CapEff:\t${ours}\nSeccomp:\t0\n`);
    expect(readFileSync(`${out}/ok`, "utf8")).toBe("mounted\n");
  });

  it("keeps secrets out of layers, config, history and the cache key", async () => {
    const secret = `s3cr3t-${Date.now()}-value`;
    process.env.TBUILD_TEST_SECRET = secret;
    const ctx = env.context({
      Dockerfile: [
        "FROM busybox",
        "ARG EXPECT",
        "RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /len && test \"$(sha256sum < /run/secrets/tok | cut -d' ' -f1)\" = \"$EXPECT\" || exit 9",
        "RUN --mount=type=secret,id=tok,env=TOK sh -c 'test -n \"$TOK\" && echo ok > /env-ok'",
      ].join("\n"),
    });
    const out = path.join(env.work, `secret-${executor}`);
    const { result } = await env.run({
      context: ctx,
      buildArgs: { EXPECT: createHash("sha256").update(secret).digest("hex") },
      secrets: [{ id: "tok", env: "TBUILD_TEST_SECRET" }],
      outputs: [{ type: "local", dest: out }],
    });
    expect(readFileSync(path.join(out, "len"), "utf8").trim()).toBe(String(secret.length));
    expect(existsSync(path.join(out, "run/secrets/tok"))).toBe(false);
    expect(JSON.stringify(result.config)).not.toContain(secret);
    expect(grepTree(env.root, secret)).toEqual([]);
  });

  it("takes a secret's id from source=, files it under the id's base name, and sets the variable of a missing optional secret empty (as BuildKit)", async () => {
    process.env.TBUILD_TEST_SECRET2 = "by-source";
    const ctx = env.context({
      Dockerfile: [
        "FROM busybox",
        // dispatchSecret (dockerfile2llb/convert_secrets.go): source= is the id; /run/secrets/<path.Base(id)>.
        "RUN --mount=type=secret,source=a/tok sh -c 'cat /run/secrets/tok > /by-source'",
        // loadSecretEnv (solver/llbsolver/ops/exec.go) sets NAME= for a missing optional secret.
        "RUN --mount=type=secret,id=missing,env=NONE sh -c 'echo \"[${NONE-unset}]\" > /optional'",
      ].join("\n"),
    });
    const out = path.join(env.work, `secret-source-${executor}`);
    await env.run({ context: ctx, secrets: [{ id: "a/tok", env: "TBUILD_TEST_SECRET2" }], outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "by-source"), "utf8")).toBe("by-source");
    expect(readFileSync(path.join(out, "optional"), "utf8")).toBe("[]\n");
  });

  it("persists cache mounts between builds and discards tmpfs and bind writes", async () => {
    const make = (n: number) =>
      env.context({
        Dockerfile: [
          "FROM busybox",
          `RUN --mount=type=cache,target=/cache --mount=type=tmpfs,target=/scratch echo run${n} >> /cache/log && echo x > /scratch/x && cp /cache/log /log`,
          "RUN --mount=type=bind,source=data,target=/data cat /data/in.txt > /copied",
        ].join("\n"),
        "data/in.txt": "bound\n",
      });
    const out1 = path.join(env.work, `cm1-${executor}`);
    await env.run({ context: make(1), outputs: [{ type: "local", dest: out1 }] });
    const out2 = path.join(env.work, `cm2-${executor}`);
    await env.run({ context: make(2), outputs: [{ type: "local", dest: out2 }] });
    expect(readFileSync(path.join(out2, "log"), "utf8")).toContain("run1\nrun2\n");
    expect(existsSync(path.join(out2, "scratch/x"))).toBe(false);
    expect(existsSync(path.join(out2, "cache/log"))).toBe(false);
    expect(readFileSync(path.join(out2, "copied"), "utf8")).toBe("bound\n");
  });

  it("seeds a new cache mount from a stage", async () => {
    const ctx = env.context({
      Dockerfile: [
        "FROM busybox AS seed",
        "RUN mkdir -p /seed && echo seeded > /seed/file",
        "FROM busybox",
        `RUN --mount=type=cache,id=seeded-${executor},target=/c,from=seed,source=/seed cat /c/file > /got`,
      ].join("\n"),
    });
    const out = path.join(env.work, `seeded-${executor}`);
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "got"), "utf8")).toBe("seeded\n");
  });

  it("builds only the stages the target needs, independent ones side by side", async () => {
    const ctx = env.context({
      Dockerfile: [
        "FROM busybox AS a",
        "RUN sleep 1 && echo a > /a",
        "FROM busybox AS b",
        "RUN sleep 1 && echo b > /b",
        "FROM busybox AS broken",
        "RUN exit 1",
        "FROM busybox AS final",
        "COPY --from=a /a /a",
        "COPY --from=b /b /b",
      ].join("\n"),
    });
    const { events } = await env.run({ context: ctx, target: "final" });
    const runs = events.filter((e): e is Extract<BuildEvent, { type: "step-start" | "step-done" }> => (e.type === "step-start" || e.type === "step-done") && e.step.instruction.startsWith("RUN sleep"));
    // Both sleeps started before either finished: the stages ran at the same time.
    expect(runs.map((e) => e.type)).toEqual(["step-start", "step-start", "step-done", "step-done"]);
    expect(events.some((e) => e.type === "step-start" && e.step.stage === "broken")).toBe(false);
  });

  it("runs ONBUILD triggers of a stored base image, once", async () => {
    const parent = env.context({ Dockerfile: "FROM busybox\nONBUILD RUN echo triggered > /trigger\nONBUILD ENV FROM_TRIGGER=1\n" });
    await env.run({ context: parent, tags: [`onbuild-parent-${executor}:1`] });
    const child = env.context({ Dockerfile: `FROM onbuild-parent-${executor}:1\nRUN cat /trigger > /seen\n` });
    const out = path.join(env.work, `onbuild-${executor}`);
    const { result } = await env.run({ context: child, outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "seen"), "utf8")).toBe("triggered\n");
    expect(result.config.config?.Env).toContain("FROM_TRIGGER=1");
    expect(result.config.config?.OnBuild ?? null).toBeNull();
  });

  it("records a RUN's opaque directory with its snapshot; later steps and exports honour it", async () => {
    const ctx = env.context({
      Dockerfile: "FROM busybox\nRUN mkdir -p /d && echo old > /d/old\nRUN rm -rf /d && mkdir /d && echo new > /d/new\nRUN ls /d > /list\n",
    });
    const out = path.join(env.work, `opaque-${executor}`);
    const oci = path.join(env.work, `opaque-${executor}.oci.tar`);
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out }, { type: "oci", dest: oci }] });
    expect(readFileSync(path.join(out, "list"), "utf8")).toBe("new\n");
    expect(readdirSync(path.join(out, "d"))).toEqual(["new"]);
    // The snapshot of the third layer carries the record the next step and the export used.
    const records = readdirSync(path.join(env.root, "snapshots"))
      .map((s) => path.join(env.root, "snapshots", s, "xattrs.json"))
      .filter((f) => existsSync(f))
      .map((f) => JSON.parse(readFileSync(f, "utf8")) as { e: [string, [string, string][]][] });
    expect(records.some((r) => r.e.some(([p, attrs]) => p === "d" && attrs.some(([k]) => k.endsWith(".overlay.opaque"))))).toBe(true);
    // The exported layer (re-created from the snapshot with the record) has the OCI opaque marker.
    const layout = path.join(env.work, `opaque-${executor}-layout`);
    execFileSync("mkdir", ["-p", layout]);
    execFileSync("tar", ["-xf", oci, "-C", layout]);
    const listings = readdirSync(path.join(layout, "blobs/sha256")).map((b) => {
      try {
        return execFileSync("tar", ["-tzf", path.join(layout, "blobs/sha256", b)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      } catch {
        return "";
      }
    });
    expect(listings.some((l) => l.split("\n").includes("d/.wh..wh..opq"))).toBe(true);
  });

  it("writes OCI and Docker archives and layouts that skopeo and umoci accept, and builds FROM a named oci-layout:// context", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo hi > /hi\nCMD [\"cat\", \"/hi\"]\n" });
    const oci = path.join(env.work, `img-${executor}.oci.tar`);
    const docker = path.join(env.work, `img-${executor}.docker.tar`);
    const layout = path.join(env.work, `layout-${executor}`);
    const { result } = await env.run({
      context: ctx,
      tags: ["exported:1"],
      outputs: [{ type: "oci", dest: oci }, { type: "docker", dest: docker }, { type: "oci-layout", dest: layout }],
    });
    const inspect = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${oci}`], { encoding: "utf8" }));
    expect(inspect.Layers).toHaveLength(result.manifest.layers.length);
    const dinspect = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${docker}`], { encoding: "utf8" }));
    expect(dinspect.Layers).toHaveLength(result.manifest.layers.length);
    const bundle = path.join(env.work, `bundle-${executor}`);
    execFileSync("umoci", ["unpack", "--image", `${layout}:1`, bundle], { stdio: "pipe" });
    expect(readFileSync(path.join(bundle, "rootfs/hi"), "utf8")).toBe("hi\n");
    const child = env.context({ Dockerfile: `FROM base\nRUN cat /hi > /again\n` });
    const out = path.join(env.work, `from-layout-${executor}`);
    await env.run({ context: child, buildContexts: { base: `oci-layout://${layout}:1` }, outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "again"), "utf8")).toBe("hi\n");
  });
});
