// Runs the built `tbuild` binary for end-to-end tests (test/cli-*.test.ts).
// The tests exercise the bundle users run; `npm test` builds it first.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
// The bundle (packages/cli/bundle, esbuild) is what the bin runs, so it is what the tests run.
export const cliMain = fileURLToPath(new URL("../bundle/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
}

function assertBuilt(): void {
  if (!existsSync(cliMain)) throw new Error(`${cliMain} is missing: run \`npm run build\` (npm test does) before the CLI tests`);
}

function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  // The tests decide about debug output themselves.
  if (!extra || !("TBUILD_DEBUG" in extra)) delete env.TBUILD_DEBUG;
  delete env.FORCE_COLOR;
  return env;
}

/** Runs `tbuild ARGS` to completion (synchronously: for quick commands). */
export function tbuildSync(args: string[], opts: CliOptions = {}): CliResult {
  assertBuilt();
  const r = spawnSync(process.execPath, [cliMain, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: childEnv(opts.env),
    input: opts.input ?? "",
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 30_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `tbuild ARGS` asynchronously (for builds, which may take a while). */
export function tbuild(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, ...args], { cwd: opts.cwd ?? repoRoot, env: childEnv(opts.env) });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** A temp dir on /dev/shm, removed by the returned cleanup. */
export function shmTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(`/dev/shm/${prefix}-`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True when a stderr text contains a JavaScript stack frame. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+\(?.+:\d+:\d+\)?$/m.test(text);
}
