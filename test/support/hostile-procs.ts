// Build processes for the hostile suite: each build, import or prune loop runs in its own
// node process (test/hostile/fixtures/build-driver.mjs, importing the BUILT packages), so
// that concurrency is real and SIGKILL/SIGINT hit a whole build. Also: who is alive on the
// host, and what is mounted.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { BuildOptions } from "@tbuild/builder";

export const repoRoot = path.resolve(__dirname, "../..");
const driver = path.join(repoRoot, "test/hostile/fixtures/build-driver.mjs");

/**
 * Compiles the builder and what it references so the driver imports current code. `npm test`
 * has built everything already; this catches a stale dist/ in a single-file run. Serialised
 * with the cache tests' lock: two `tsc -b` must not rewrite one dist/ at the same time.
 */
export function buildDist(): void {
  try {
    execFileSync("flock", ["/tmp/tbuild-cache-test-build.lock", "npx", "tsc", "-b", "packages/builder"], { cwd: repoRoot, stdio: "pipe" });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`building packages/builder failed:\n${err.stdout?.toString()}${err.stderr?.toString()}`);
  }
}

export type DriverSpec =
  | ({ op: "build"; events?: boolean } & Omit<BuildOptions, "signal">)
  | { op: "import"; tarPath: string; ref: string; root: string; changes?: string[] }
  | { op: "prune-loop"; root: string; intervalMs?: number };

export interface DriverRun {
  child: ChildProcess;
  /** Resolves once the driver has printed "ready" (the store is about to be used), or exited. */
  ready: Promise<void>;
  /** Resolves when the process has exited. */
  done: Promise<DriverOutcome>;
}

export interface DriverOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The `result …` line's JSON, if the driver got that far. */
  result?: Record<string, unknown>;
  /** The `error …` line's JSON, if it failed. */
  error?: { name?: string; code?: string; message: string };
}

/** Starts a driver process. `env` is added to ours. */
export function startDriver(spec: DriverSpec, env: NodeJS.ProcessEnv = {}): DriverRun {
  const child = spawn(process.execPath, [driver, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    if (stdout.startsWith("ready\n") || stdout.includes("\nready\n")) markReady();
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<DriverOutcome>((resolve) => {
    child.on("close", (code, signal) => {
      markReady();
      const line = (prefix: string, text: string) => {
        const l = text.split("\n").find((x) => x.startsWith(prefix + " "));
        return l ? JSON.parse(l.slice(prefix.length + 1)) : undefined;
      };
      resolve({ code, signal, stdout, stderr, result: line("result", stdout), error: line("error", stderr) });
    });
  });
  return { child, ready, done };
}

/** Runs a driver to completion; rejects with its error output unless it succeeded. */
export async function runDriver(spec: DriverSpec, env?: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const out = await startDriver(spec, env).done;
  if (out.code !== 0 || !out.result) {
    throw new Error(`driver ${spec.op} exited ${out.code ?? out.signal}: ${out.error?.message ?? out.stderr.trim()}`);
  }
  return out.result;
}

/** Pids of host processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Lines of the host's mount table (ours) that mention `fragment`. */
export function mountsMentioning(fragment: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(fragment));
}

/** Polls `check` until it is true (up to ~10 s); throws naming `what` otherwise. */
export async function eventually(check: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
