// Nothing outlives a build: a RUN that leaves background and daemonised processes, a RUN
// that fills a size-limited /tmp and its own /tmp, and steps stopped by the user — through
// the AbortSignal of the library, SIGINT to a build process, and SIGINT to the `tbuild`
// command — must leave no process, no mount in /proc/self/mountinfo, no step directory in
// the runtime dir, and nothing in the store's tmp/ after the next open. Both executors.
// Needs root; the SIGINT cases use the built packages (dist/).
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, BuildAbortedError } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectSuccess } from "../support/hostile-build.js";
import { buildDist, eventually, mountsMentioning, processesWith, repoRoot, startDriver } from "../support/hostile-procs.js";
import { Tally } from "../support/hostile-tally.js";

// A runtime root of our own, so that step dirs of other test files do not count.
const runtime = mkdtempSync("/dev/shm/tbuild-hostile-runtime-");
process.env.TBUILD_RUNTIME_DIR = runtime;
const cli = path.join(repoRoot, "packages/cli/bundle/main.js");

beforeAll(() => buildDist());
afterAll(() => rmSync(runtime, { recursive: true, force: true }));

describe.each(["runc", "unshare"] as const)("cleanup (%s executor)", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  /** Throws unless nothing of a build is left: processes with `marker`, mounts, step dirs, store temp files. */
  async function nothingLeft(marker: string): Promise<void> {
    await eventually(() => processesWith(marker).length === 0, `no process with ${marker}`);
    expect(mountsMentioning(env.root)).toEqual([]);
    expect(mountsMentioning(runtime)).toEqual([]);
    await eventually(() => readdirSync(runtime).filter((n) => n.startsWith("s-")).length === 0, "no step dir in the runtime root");
    if (existsSync(path.join(runtime, "runc"))) expect(readdirSync(path.join(runtime, "runc"))).toEqual([]);
    const store = await Store.open(env.root);
    expect(readdirSync(store.layout.tmpDir)).toEqual([]);
    await store.close();
  }

  const marker = (n: number) => `9${n}${String(process.pid).padStart(7, "0")}${executor === "runc" ? 1 : 2}`;

  it("leaves nothing behind", async (ctx) => {
    const t = new Tally(ctx, "faults");

    await t.check("a RUN that leaves background and daemonised processes", async () => {
      const m = marker(1);
      const a = await attempt(env, {
        executor,
        context: env.context({ Dockerfile: `FROM busybox\nRUN sleep ${m} & (sleep ${m} &) ; setsid sleep ${m} </dev/null >/dev/null 2>&1 & nohup sleep ${m} >/dev/null 2>&1 & echo left\nRUN echo next\n` }),
      });
      expectSuccess(a, "background processes");
      await nothingLeft(m);
    });

    await t.check("a RUN that fills a size-limited /tmp and its own /tmp", async () => {
      const a = await attempt(env, {
        executor,
        context: env.context({ Dockerfile: "FROM busybox\nRUN --mount=type=tmpfs,target=/tmp,size=8m dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>/dev/null; df -k /tmp | tail -1\nRUN dd if=/dev/zero of=/tmp/fill bs=1M count=32 2>/dev/null && rm /tmp/fill && echo filled\n" }),
      });
      expectSuccess(a, "fill /tmp");
      const out = a.events.map((e) => (e.type === "step-log" ? e.data : "")).join("");
      expect(out).toMatch(/\b8192\b.*100%/);
      expect(out).toContain("filled");
      await nothingLeft("dd if=/dev/zero");
    });

    await t.check("a step cancelled through the AbortSignal", async () => {
      const m = marker(2);
      const ac = new AbortController();
      const h = build({
        root: env.root, executor, signal: ac.signal,
        context: env.context({ Dockerfile: `FROM busybox\nRUN echo ready && sleep ${m}\n` }),
      });
      for await (const e of h) if (e.type === "step-log" && e.data.includes("ready")) ac.abort();
      // The error's type is checked in "a cancelled build says so" below.
      await expect(h.result).rejects.toThrow(/abort|cancel/i);
      await nothingLeft(m);
    });

    await t.check("SIGINT to a build process", async () => {
      const m = marker(3);
      const run = startDriver({ op: "build", root: env.root, executor, events: true, context: env.context({ Dockerfile: `FROM busybox\nRUN echo ready && sleep ${m}\n` }) }, { TBUILD_RUNTIME_DIR: runtime });
      await eventually(() => processesWith(m).length > 0, "the step to start", 600);
      run.child.kill("SIGINT");
      const out = await run.done;
      expect(out.code).toBe(1);
      expect(out.error?.message).toMatch(/abort|cancel/i);
      await nothingLeft(m);
    });

    await t.check("SIGINT to the tbuild command", async () => {
      const m = marker(4);
      const child = spawn(process.execPath, [cli, "--root", env.root, "build", "--executor", executor, "--progress", "plain", env.context({ Dockerfile: `FROM busybox\nRUN echo ready && sleep ${m}\n` })], {
        stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TBUILD_RUNTIME_DIR: runtime },
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      await eventually(() => processesWith(m).length > 0, "the step to start", 600);
      child.kill("SIGINT");
      const code = await exited;
      expect(code, output).not.toBe(0);
      expect(output).toMatch(/interrupt|cancel/i);
      expect(output).not.toMatch(/\n\s+at /);
      await nothingLeft(m);
    });
    t.assertClean();
  });

  // Fixed (run-stage.ts failStep): a step stopped by the caller's signal rejects with
  // BuildAbortedError and emits no step-error.
  it("a cancelled build says so (BuildAbortedError)", async () => {
    const ac = new AbortController();
    const h = build({
      root: env.root, executor, signal: ac.signal,
      context: env.context({ Dockerfile: `FROM busybox\nRUN echo ready && sleep ${marker(5)}\n` }),
    });
    const events = [];
    for await (const e of h) {
      events.push(e);
      if (e.type === "step-log" && e.data.includes("ready")) ac.abort();
    }
    await expect(h.result).rejects.toBeInstanceOf(BuildAbortedError);
    expect(events.filter((e) => e.type === "step-error")).toEqual([]);
  });
});
