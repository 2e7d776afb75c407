// The build API as a library uses it (issue 20): cancellation with the signal's reason,
// per-output manifest digests (checked with skopeo), a trustworthy per-step status, one
// outcome event per build, typed errors exported from @tbuild/builder, ready step labels and
// the unused build-arg warning. Needs root, skopeo and Debian's docker-registry.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as parser from "@tbuild/parser";
import * as fileops from "../packages/builder/src/fileops/index.js";
import {
  build,
  BuildAbortedError,
  BuildOptionError,
  ContextError,
  DockerfileSyntaxError,
  FileOpError,
  StepError,
  StepFailedError,
  type BuildEvent,
  type BuildOptions,
} from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry } from "./support/registry.js";

/** Runs a build to its end, collecting every event, and returns the result or the error. */
async function settle(opts: BuildOptions): Promise<{ events: BuildEvent[]; error?: unknown; result?: Awaited<ReturnType<typeof build>["result"]> }> {
  const h = build(opts);
  const events: BuildEvent[] = [];
  for await (const e of h) events.push(e);
  try {
    return { events, result: await h.result };
  } catch (error) {
    return { events, error };
  }
}

const outcomes = (events: BuildEvent[]) => events.filter((e) => e.type === "build-done" || e.type === "build-error");

const twoStage = [
  "ARG BASE=busybox",
  "FROM $BASE",
  "ARG GREETING=hi",
  "RUN echo $GREETING > /greeting",
  "FROM busybox",
  "ENV APP=/app",
  "COPY --from=0 /greeting /greeting",
  "COPY app.txt /app/",
  'CMD ["cat", "/greeting"]',
].join("\n");

describe("the build API as a library", () => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv();
  });
  afterAll(() => env?.dispose());

  it("rejects at once when the signal is already aborted: the reason as cause, nothing read or started", async () => {
    const reason = new Error("not today");
    const root = path.join(env.work, "never-opened");
    const { events, error } = await settle({ context: path.join(env.work, "no-such-context"), root, signal: AbortSignal.abort(reason) });
    expect(error).toBeInstanceOf(BuildAbortedError);
    expect((error as Error).cause).toBe(reason);
    // The missing context was never looked at and the store never opened (Store.open makes its root).
    expect(existsSync(root)).toBe(false);
    expect(events).toEqual([expect.objectContaining({ type: "build-error", error: expect.objectContaining({ name: "BuildAbortedError" }) })]);
  });

  it("cancels a running step and tells a timeout from a user's cancel by the cause", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo started && sleep 600\n" });
    const controller = new AbortController();
    const h = build({ context: ctx, root: env.root, noCache: true, signal: controller.signal });
    const events: BuildEvent[] = [];
    for await (const e of h) {
      events.push(e);
      if (e.type === "step-log") controller.abort(); // the RUN's process is running now
    }
    const err = await h.result.catch((e) => e);
    expect(err).toBeInstanceOf(BuildAbortedError);
    expect((err.cause as Error).name).toBe("AbortError");
    expect(outcomes(events)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "build-error", error: { name: "BuildAbortedError" } });

    const timeout = new AbortController();
    const t = build({ context: ctx, root: env.root, noCache: true, signal: timeout.signal });
    for await (const e of t) if (e.type === "step-log") timeout.abort(new DOMException("timed out", "TimeoutError"));
    const terr = await t.result.catch((e) => e);
    expect(terr).toBeInstanceOf(BuildAbortedError);
    expect((terr.cause as Error).name).toBe("TimeoutError");
  });

  it("lists every step with a status, FROM included, and a full rebuild reports every step cached", async () => {
    const ctx = env.context({ Dockerfile: twoStage, "app.txt": "app\n" });
    const first = await env.run({ context: ctx, buildArgs: { GREETING: "hello" } });
    const summary = (r: typeof first) => r.result.steps.map((s) => `${s.step.label} ${s.status} ${s.cached}`);
    expect(summary(first)).toEqual([
      "[stage-0 1/3] FROM busybox cached true",
      "[stage-0 2/3] ARG GREETING=hi metadata true",
      "[stage-0 3/3] RUN echo $GREETING > /greeting ran false",
      "[stage-1 1/5] FROM busybox cached true",
      "[stage-1 2/5] ENV APP=/app metadata true",
      "[stage-1 3/5] COPY --from=0 /greeting /greeting ran false",
      "[stage-1 4/5] COPY app.txt /app/ ran false",
      '[stage-1 5/5] CMD ["cat", "/greeting"] metadata false',
    ]);
    // Events carry the same labels and statuses.
    const done = first.events.filter((e): e is Extract<BuildEvent, { type: "step-done" }> => e.type === "step-done");
    expect(done.map((e) => `${e.step.label} ${e.status}`)).toContain("[stage-1 1/5] FROM busybox cached");
    expect(done.map((e) => `${e.step.label} ${e.status}`)).toContain("[stage-0 3/3] RUN echo $GREETING > /greeting ran");

    const again = await env.run({ context: ctx, buildArgs: { GREETING: "hello" } });
    expect(again.result.steps).toHaveLength(8);
    expect(again.result.steps.every((s) => s.cached)).toBe(true);
    expect(again.result.steps.map((s) => s.status)).not.toContain("ran");
    expect(again.result.imageId).toBe(first.result.imageId);
  });

  it("returns, per output, its destination and the manifest digest it holds, as skopeo reads it", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo out > /out\n" });
    const oci = path.join(env.work, "api-out.oci.tar");
    const docker = path.join(env.work, "api-out.docker.tar");
    const local = path.join(env.work, "api-out-dir");
    const { result, events } = await env.run({
      context: ctx,
      tags: ["api/out:1"],
      outputs: [{ type: "store" }, { type: "oci", dest: oci }, { type: "docker", dest: docker }, { type: "local", dest: local }],
    });
    const [store, ociOut, dockerOut, localOut] = result.outputs;
    expect(store).toEqual({ type: "store", names: ["docker.io/api/out:1"], manifestDigest: result.manifestDigest, mediaType: result.manifest.mediaType });
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${oci}`], { encoding: "utf8" }));
    expect(ociOut).toEqual({ type: "oci", dest: oci, manifestDigest: inspected.Digest, mediaType: "application/vnd.oci.image.manifest.v1+json" });
    // The archive's layers are gzip-compressed, the store's are not: another manifest.
    expect(ociOut!.manifestDigest).not.toBe(result.manifestDigest);
    expect(dockerOut).toMatchObject({ type: "docker", dest: docker, mediaType: "application/vnd.docker.distribution.manifest.v2+json" });
    expect(dockerOut!.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(localOut).toEqual({ type: "local", dest: local });
    const exported = events.filter((e): e is Extract<BuildEvent, { type: "export" }> => e.type === "export");
    expect(exported.map((e) => e.result)).toEqual(result.outputs);
    expect(exported.every((e) => e.digest === result.imageId)).toBe(true);
  });

  it("returns the digest a registry holds after a push, and reports a pulled FROM as ran, then cached", async () => {
    const registry = await startRegistry();
    try {
      const ref = `${registry.host}/api/pushed:1`;
      const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo pushed > /pushed\n" });
      const { result } = await env.run({ context: ctx, outputs: [{ type: "registry", name: ref }] });
      const inspected = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
      expect(result.outputs).toEqual([{ type: "registry", ref, manifestDigest: inspected.Digest, mediaType: "application/vnd.oci.image.manifest.v1+json" }]);

      const root = path.join(env.work, "pull-store");
      const child = env.context({ Dockerfile: `FROM ${ref}\nRUN cat /pushed\n` });
      const pulled = await settle({ context: child, root });
      expect(pulled.result!.steps.map((s) => s.status)).toEqual(["ran", "ran"]);
      const again = await settle({ context: child, root });
      expect(again.result!.steps.map((s) => s.status)).toEqual(["cached", "cached"]);
    } finally {
      await registry.stop();
    }
  });

  it("ends every build with exactly one outcome event", async () => {
    const ok = await settle({ context: env.context({ Dockerfile: "FROM busybox\n" }), root: env.root });
    expect(outcomes(ok.events)).toEqual([expect.objectContaining({ type: "build-done", digest: ok.result!.imageId })]);
    expect(ok.events.at(-1)!.type).toBe("build-done");

    const syntax = await settle({ context: env.context({ Dockerfile: "FROM busybox\nFOO bar\n" }), root: env.root });
    expect(syntax.error).toBeInstanceOf(DockerfileSyntaxError);
    expect(syntax.events).toEqual([expect.objectContaining({ type: "build-error", error: expect.objectContaining({ name: "DockerfileSyntaxError" }) })]);

    const failing = await settle({ context: env.context({ Dockerfile: "FROM busybox\nRUN exit 3\n" }), root: env.root });
    expect(failing.error).toBeInstanceOf(StepFailedError);
    expect(outcomes(failing.events)).toHaveLength(1);
    expect(failing.events.at(-1)).toMatchObject({ type: "build-error", error: { name: "StepFailedError", step: { line: 2, label: "[2/2] RUN exit 3" } } });
  });

  it("throws typed errors, all exported from @tbuild/builder", async () => {
    expect(DockerfileSyntaxError).toBe(parser.DockerfileSyntaxError);
    expect(FileOpError).toBe(fileops.FileOpError);

    const ctx = env.context({ Dockerfile: "FROM busybox AS base\nFROM base AS final\n" });
    const target = await settle({ context: ctx, root: env.root, target: "fnial" });
    expect(target.error).toBeInstanceOf(BuildOptionError);
    expect(target.error).toMatchObject({ option: "target", code: "ERR_BAD_OPTION" });
    expect((target.error as Error).message).toBe('target stage "fnial" could not be found (did you mean final?)');
    expect(outcomes(target.events)).toEqual([expect.objectContaining({ error: expect.objectContaining({ name: "BuildOptionError", code: "ERR_BAD_OPTION" }) })]);

    const platform = await settle({ context: ctx, root: env.root, platform: "linux/amd64/v1/extra" });
    expect(platform.error).toMatchObject({ name: "BuildOptionError", option: "platform" });

    const missing = await settle({ context: path.join(env.work, "nope"), root: env.root });
    expect(missing.error).toBeInstanceOf(ContextError);
    expect(missing.error).toMatchObject({ code: "ERR_CONTEXT_MISSING" });
    const noDockerfile = await settle({ context: env.context({ "a.txt": "" }), root: env.root });
    expect(noDockerfile.error).toMatchObject({ name: "ContextError", code: "ERR_DOCKERFILE_MISSING" });

    const copy = await settle({ context: env.context({ Dockerfile: "FROM busybox\nCOPY nope.txt /x\n" }), root: env.root });
    expect(copy.error).toBeInstanceOf(StepError);
    expect((copy.error as StepError).cause).toBeInstanceOf(FileOpError);
    expect(((copy.error as StepError).cause as FileOpError).code).toBe("NOT_FOUND");
    // What the build uses internally to report a step once stays off the error.
    expect(Object.keys(copy.error as object)).not.toContain("reported");
  });

  it("warns about build args nothing declares, as Docker does", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nARG USED\n" });
    const { events } = await env.run({ context: ctx, buildArgs: { USED: "1", UNUSED: "2", HTTP_PROXY: "http://p" } });
    const warnings = events.filter((e) => e.type === "warning").map((e) => (e as { message: string }).message);
    expect(warnings).toEqual(["One or more build-args [UNUSED] were not consumed"]);
  });
});
