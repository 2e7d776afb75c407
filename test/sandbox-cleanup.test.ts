// Nothing outlives a step: no mount in the host's mount table, no process (background jobs
// included), no step dir, runc state or cgroup — after success, failure, abort, and when
// the tbuild process running the step is SIGKILLed.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, stepDirsRemoved, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { CopySnapshotter, OverlaySnapshotter, type Snapshotter } from "../packages/builder/src/snapshot/index.js";
import { buildDist } from "./support/hostile-procs.js";
import { hostMountsMentioning, IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

// A runtime root of our own, so that step dirs of other test files do not count.
const runtime = skip ? "" : tempDir("runtime");
if (!skip) process.env.TBUILD_RUNTIME_DIR = runtime;

/** Pids of host processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

function stepDirs(): string[] {
  return readdirSync(runtime).filter((n) => n.startsWith("s-"));
}

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];
const snapshotters: [string, () => Snapshotter][] = [
  ["overlay", () => new OverlaySnapshotter()],
  ["copy", () => new CopySnapshotter()],
];

afterAll(() => {
  if (runtime) rmSync(runtime, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined).each(executors)("%s executor", (name, makeExecutor) => {
  describe.each(snapshotters)("%s snapshotter", (_s, makeSnapshotter) => {
    let base: string;
    let ex: Executor;
    let snap: Snapshotter;
    const scratches: string[] = [];
    beforeAll(() => {
      base = makeBusyboxSnapshot(tempDir("base"));
      ex = makeExecutor();
      snap = makeSnapshotter();
    });
    afterAll(() => {
      for (const d of [base, ...scratches]) rmSync(d, { recursive: true, force: true });
    });

    const noTraces = async (scratch: string) => {
      await stepDirsRemoved(); // removed in the background after the step
      expect(hostMountsMentioning(scratch)).toEqual([]);
      expect(hostMountsMentioning(runtime)).toEqual([]);
      expect(stepDirs()).toEqual([]);
      if (name === "runc") expect(readdirSync(`${runtime}/runc`)).toEqual([]);
    };

    it("leaves nothing behind after success and after failure", async () => {
      for (const cmd of ["echo ok", "exit 7"]) {
        const r = await runStep(ex, snap, [base], ["/bin/sh", "-c", cmd], { mounts: [{ type: "tmpfs", target: "/t" }, { type: "layers", lowers: [base], target: "/l", readonly: false }] });
        scratches.push(r.scratch);
        await noTraces(r.scratch);
      }
    });

    it("kills background processes when the command exits", async () => {
      const marker = `98765${Math.floor(Math.random() * 1000)}`;
      const r = await runStep(ex, snap, [base], ["/bin/sh", "-c", `sleep ${marker} & sleep ${marker} </dev/null >/dev/null 2>&1 & echo started`]);
      scratches.push(r.scratch);
      expect(r.stdout).toBe("started\n");
      expect(processesWith(`sleep\0${marker}`)).toEqual([]);
      await noTraces(r.scratch);
    });

    it("aborts a running step promptly and cleans up", async () => {
      const marker = `87654${Math.floor(Math.random() * 1000)}`;
      const scratch = tempDir("scratch");
      scratches.push(scratch);
      const rootfs = await snap.prepare([base], scratch);
      const ac = new AbortController();
      const run = ex.run({
        rootfs, args: ["/bin/sh", "-c", `echo ready; sleep ${marker}`], env: ["PATH=/bin"], cwd: "/stub-cwd",
        user: { uid: 0, gid: 0, additionalGids: [] }, network: "none", mounts: [{ type: "tmpfs", target: "/t" }],
        stdout: (b) => {
          if (b.toString().includes("ready")) ac.abort();
        },
        stderr: () => {},
      }, ac.signal);
      const err = await run.catch((e: unknown) => e);
      expect((err as Error).name).toBe("AbortError");
      expect(processesWith(`sleep\0${marker}`)).toEqual([]);
      await noTraces(scratch);
      const diff = await snap.diff(rootfs, [base]);
      expect([...readTree(diff).keys()]).toEqual([]);
      await snap.release(rootfs);
    });

    it("rejects at once when the signal is already aborted", async () => {
      const scratch = tempDir("scratch");
      scratches.push(scratch);
      const rootfs = await snap.prepare([base], scratch);
      const err = await ex.run({
        rootfs, args: ["true"], env: [], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] }, network: "none", mounts: [],
        stdout: () => {}, stderr: () => {},
      }, AbortSignal.abort()).catch((e: unknown) => e);
      expect((err as Error).name).toBe("AbortError");
      await snap.release(rootfs);
    });
  });

  describe("when the tbuild process is SIGKILLed", () => {
    let compiled: string;
    let base: string;
    beforeAll(() => {
      // A plain Node process must run the executor: it imports the built packages (dist/).
      buildDist();
      compiled = fileURLToPath(new URL("../packages/builder/dist", import.meta.url));
      base = makeBusyboxSnapshot(tempDir("base"));
    }, 120_000);
    afterAll(() => {
      rmSync(base, { recursive: true, force: true });
    });

    it("takes the sandbox down with it", async () => {
      const marker = `76543${Math.floor(Math.random() * 1000)}`;
      const scratch = tempDir("scratch");
      const script = `
        import { ${name === "runc" ? "RuncExecutor as E" : "UnshareExecutor as E"} } from "${compiled}/sandbox/index.js";
        import { OverlaySnapshotter } from "${compiled}/snapshot/index.js";
        const snap = new OverlaySnapshotter();
        const rootfs = await snap.prepare([${JSON.stringify(base)}], ${JSON.stringify(scratch)});
        await E.create().run({
          rootfs, args: ["/bin/sh", "-c", "sleep ${marker} & echo ready; sleep ${marker}"], env: ["PATH=/bin"], cwd: "/",
          user: { uid: 0, gid: 0, additionalGids: [] }, network: "none", mounts: [{ type: "tmpfs", target: "/t" }],
          stdout: (b) => process.stdout.write(b), stderr: (b) => process.stderr.write(b),
        });`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, TBUILD_RUNTIME_DIR: runtime } });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on("data", (b: Buffer) => b.toString().includes("ready") && resolve());
          child.on("exit", (code) => reject(new Error(`the child exited early with ${code}`)));
        });
        await eventually(() => processesWith(`sleep\0${marker}`).length === 2, "both sleeps to start");
      } finally {
        child.kill("SIGKILL");
      }
      // Reaped, not only killed: the sweep below leaves the dirs of a pid that still exists (a zombie too).
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
      await eventually(() => processesWith(`sleep\0${marker}`).length === 0, "the sandbox's processes to die");
      expect(hostMountsMentioning(scratch)).toEqual([]);
      expect(hostMountsMentioning(runtime)).toEqual([]);
      // The next executor removes the dead process's step dir.
      expect(stepDirs().length).toBe(1);
      (name === "runc" ? RuncExecutor : UnshareExecutor).create();
      await eventually(() => stepDirs().length === 0, "the leftover step dir to be swept");
      if (name === "runc") await eventually(() => !existsSync(`${runtime}/runc`) || readdirSync(`${runtime}/runc`).length === 0, "the runc state to be swept");
      rmSync(scratch, { recursive: true, force: true });
    });
  });
});
