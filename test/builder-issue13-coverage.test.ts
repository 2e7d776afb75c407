// Behaviour the feature table marks done and no test held until issue 13 (item 15) asked:
// `# check=error=true` failing a build on a lint rule, an ARG value change rerunning exactly
// the steps whose key holds it, cache-mount gid / ro / shared / locked, `ONBUILD COPY --from`
// and `FROM name@sha256:…` (pulled from a registry, then from the store). Needs root (sandboxed RUN
// steps), util-linux's flock and Debian's docker-registry.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, BuildCheckError, type BuildEvent, type StepResult } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry } from "./support/registry.js";

let env: BuildEnv;
beforeAll(async () => {
  env = await makeBuildEnv();
});
afterAll(() => env?.dispose());

const out = (name: string) => path.join(env.work, "out", name);
const status = (steps: StepResult[]) => steps.map((s) => `${s.step.instruction} => ${s.status}`);

describe("# check=error=true", () => {
  it("fails the build on a lint warning, before any step runs", async () => {
    const ctx = env.context({ Dockerfile: "# check=error=true\nFROM busybox\nMAINTAINER someone\nRUN touch /ran\n" });
    const events: BuildEvent[] = [];
    const handle = build({ context: ctx, root: env.root });
    const err = await (async () => {
      for await (const e of handle) events.push(e);
      return handle.result;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildCheckError);
    expect((err as BuildCheckError).code).toBe("ERR_BUILD_CHECKS");
    expect((err as Error).message).toMatch(/1 build check warning/);
    expect(events.filter((e) => e.type === "step-start")).toEqual([]);
  });

  it("builds the same Dockerfile without the directive (warning only), and with the rule skipped", async () => {
    const warned = await env.run({ context: env.context({ Dockerfile: "FROM busybox\nMAINTAINER someone\n" }) });
    expect(warned.events.some((e) => e.type === "warning" && JSON.stringify(e).includes("MaintainerDeprecated"))).toBe(true);
    const skipped = env.context({ Dockerfile: "# check=skip=MaintainerDeprecated;error=true\nFROM busybox\nMAINTAINER someone\n" });
    await expect(env.run({ context: skipped })).resolves.toBeDefined();
  });
});

describe("ARG and the cache", () => {
  // RUN keys hold every ARG in scope (BuildKit puts them in the step's environment); a
  // COPY, WORKDIR or COPY --from does not, nor a step before the ARG's declaration or in a
  // stage without it. The RUN steps come last: every layer step after a rerun reruns too,
  // because its parent changed.
  const dockerfile = [
    "FROM busybox AS other",
    "RUN echo other > /other",
    "FROM busybox",
    "RUN echo before > /before",
    "ARG V=1",
    "COPY f.txt /f.txt",
    "WORKDIR /w",
    "COPY --from=other /other /other",
    "LABEL v=$V",
    "RUN echo ran > /after-arg",
    'RUN echo "v=$V" > /w/v.txt',
  ].join("\n");

  it("reruns the RUN steps after the ARG, and nothing else, when its value changes", async () => {
    const ctx = env.context({ Dockerfile: dockerfile, "f.txt": "f\n" });
    await env.run({ context: ctx, buildArgs: { V: "1" } });
    const same = await env.run({ context: ctx, buildArgs: { V: "1" } });
    expect(same.result.steps.filter((s) => s.status === "ran")).toEqual([]);

    const changed = await env.run({ context: ctx, buildArgs: { V: "2" }, outputs: [{ type: "local", dest: out("arg") }] });
    expect(status(changed.result.steps)).toEqual([
      "FROM busybox AS other => cached",
      "RUN echo other > /other => cached",
      "FROM busybox => cached",
      "RUN echo before > /before => cached",
      "ARG V=1 => metadata",
      "COPY f.txt /f.txt => cached",
      "WORKDIR /w => cached",
      "COPY --from=other /other /other => cached",
      "LABEL v=$V => metadata",
      "RUN echo ran > /after-arg => ran",
      'RUN echo "v=$V" > /w/v.txt => ran',
    ]);
    expect(readFileSync(`${out("arg")}/w/v.txt`, "utf8")).toBe("v=2\n");
    expect(changed.result.config.config?.Labels?.v).toBe("2");

    // Back to the first value: every layer step is a cache hit again.
    const back = await env.run({ context: ctx, buildArgs: { V: "1" } });
    expect(back.result.steps.filter((s) => s.status === "ran")).toEqual([]);
  });
});

describe("RUN --mount=type=cache", () => {
  const cacheDir = (id: string) => path.join(env.root, "cache-mounts", createHash("sha256").update(id).digest("hex"));

  it("creates the directory with uid, gid and mode, once; ro mounts it read-only", async () => {
    const ctx = env.context({
      Dockerfile: [
        "FROM busybox",
        "RUN --mount=type=cache,id=owned,target=/c,uid=1234,gid=4321,mode=0710 stat -c '%a %u %g' /c > /first && touch /c/made",
        "RUN --mount=type=cache,id=owned,target=/elsewhere,ro ls /elsewhere > /ro && (touch /elsewhere/x 2>/dev/null && echo writable || echo read-only) >> /ro",
      ].join("\n"),
    });
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out("cache-owned") }] });
    expect(readFileSync(`${out("cache-owned")}/first`, "utf8")).toBe("710 1234 4321\n");
    expect(readFileSync(`${out("cache-owned")}/ro`, "utf8")).toBe("made\nread-only\n");
    expect(readdirSync(cacheDir("owned"))).toEqual(["made"]);
  });

  it("shares one directory between steps, targets and builds (sharing=shared, the default)", async () => {
    const first = env.context({ Dockerfile: "FROM busybox\nRUN --mount=type=cache,id=shared-1,target=/a,sharing=shared echo one > /a/one\n" });
    await env.run({ context: first });
    const second = env.context({ Dockerfile: "FROM busybox\nRUN --mount=type=cache,id=shared-1,target=/b echo two > /b/two && ls /b > /seen\n" });
    await env.run({ context: second, outputs: [{ type: "local", dest: out("cache-shared") }] });
    expect(readFileSync(`${out("cache-shared")}/seen`, "utf8")).toBe("one\ntwo\n");
    // The cache never lands in a layer.
    expect(readdirSync(out("cache-shared"))).not.toContain("b");
  });

  it("sharing=locked waits for another process that holds the directory", async () => {
    const id = "locked-1";
    const dir = cacheDir(id);
    mkdirSync(dir, { recursive: true });
    const lockPath = `${dir}.lock`;
    // Another process holds the lock, as a concurrent build's locked step would.
    const holder: ChildProcess = spawn("flock", ["-x", lockPath, "-c", "echo held; read line; echo written-while-held > " + JSON.stringify(`${dir}/marker`)], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    await new Promise<void>((r) => holder.stdout!.once("data", () => r()));
    const ctx = env.context({ Dockerfile: `FROM busybox\nRUN --mount=type=cache,id=${id},target=/c,sharing=locked cat /c/marker > /seen\n` });
    const building = env.run({ context: ctx, outputs: [{ type: "local", dest: out("cache-locked") }] });
    // The build is waiting once a second flock process asks for the same file.
    const waiterSeen = async (): Promise<void> => {
      for (;;) {
        for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== holder.pid)) {
          let cmd = "";
          try {
            cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
          } catch {
            continue;
          }
          if (cmd.startsWith("flock\0") && cmd.split("\0").includes(lockPath)) return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.race([waiterSeen(), building.then(() => { throw new Error("the locked step did not wait for the holder"); })]);
    holder.stdin!.end("go\n");
    await building;
    expect(readFileSync(`${out("cache-locked")}/seen`, "utf8")).toBe("written-while-held\n");
  });
});

describe("ONBUILD COPY --from", () => {
  it("resolves --from in the downstream build (a stage of the child's Dockerfile)", async () => {
    const parent = env.context({ Dockerfile: "FROM busybox\nONBUILD COPY --from=assets /asset.txt /got/asset.txt\nONBUILD RUN cat /got/asset.txt > /got/seen\n" });
    await env.run({ context: parent, tags: ["onbuild-parent:1"] });
    const child = env.context({
      Dockerfile: "FROM busybox AS assets\nRUN echo from-child-stage > /asset.txt\n\nFROM onbuild-parent:1\nRUN ls /got > /listing\n",
    });
    await env.run({ context: child, outputs: [{ type: "local", dest: out("onbuild") }] });
    expect(readFileSync(`${out("onbuild")}/got/asset.txt`, "utf8")).toBe("from-child-stage\n");
    expect(readFileSync(`${out("onbuild")}/got/seen`, "utf8")).toBe("from-child-stage\n");
    expect(readFileSync(`${out("onbuild")}/listing`, "utf8")).toBe("asset.txt\nseen\n");
  });

  it("takes --from=<image> from the store in the downstream build", async () => {
    const src = env.context({ Dockerfile: "FROM busybox\nRUN echo from-image > /img.txt\n" });
    await env.run({ context: src, tags: ["onbuild-src:1"] });
    const parent = env.context({ Dockerfile: "FROM busybox\nONBUILD COPY --from=onbuild-src:1 /img.txt /img.txt\n" });
    await env.run({ context: parent, tags: ["onbuild-parent:2"] });
    await env.run({ context: env.context({ Dockerfile: "FROM onbuild-parent:2\n" }), outputs: [{ type: "local", dest: out("onbuild-img") }] });
    expect(readFileSync(`${out("onbuild-img")}/img.txt`, "utf8")).toBe("from-image\n");
  });
});

describe("FROM name@sha256:…", () => {
  it("builds offline on a stored image named by repository@manifest-digest", async () => {
    // Stored only under a tag: the digest names its content, so no registry is asked.
    const src = env.context({ Dockerfile: "FROM busybox\nRUN echo local > /l\n" });
    const built = await env.run({ context: src, tags: ["127.0.0.1:9/localpin:1"] });
    const ctx = env.context({ Dockerfile: `FROM 127.0.0.1:9/localpin@${built.result.manifestDigest}\nRUN cat /l > /seen\n` });
    const r = await env.run({ context: ctx, outputs: [{ type: "local", dest: out("digest-local") }] });
    expect(r.result.steps[0]!.status).toBe("cached");
    expect(readFileSync(`${out("digest-local")}/seen`, "utf8")).toBe("local\n");
  });

  it("pulls name@sha256 from a registry once, then builds from the store with the registry gone", async () => {
    const reg = await startRegistry();
    let digest: string;
    try {
      const src = env.context({ Dockerfile: "FROM busybox\nRUN echo from-registry > /r\n" });
      const pushed = await env.run({ context: src, outputs: [{ type: "registry", name: `${reg.host}/pinned:1` }] });
      digest = pushed.result.outputs[0]!.manifestDigest!;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const ctx = env.context({ Dockerfile: `FROM ${reg.host}/pinned@${digest}\nRUN cat /r > /seen\n` });
      const first = await env.run({ context: ctx, outputs: [{ type: "local", dest: out("pulled") }] });
      expect(first.result.steps[0]!.status).toBe("ran");
      expect(readFileSync(`${out("pulled")}/seen`, "utf8")).toBe("from-registry\n");
    } finally {
      await reg.stop();
    }
    const again = await env.run({ context: env.context({ Dockerfile: `FROM ${reg.host}/pinned@${digest}\nRUN cat /r > /seen\n` }), noCache: true });
    expect(again.result.steps[0]!.status).toBe("cached");
  });
});
