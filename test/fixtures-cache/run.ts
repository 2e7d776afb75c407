// Helpers for the cache end-to-end tests: build the package once, run workers.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const workerPath = fileURLToPath(new URL("./worker.mjs", import.meta.url));

/**
 * Compiles packages/cache (and what it references) so that workers can import dist/.
 * Serialised with flock: several test files call this at once, and a second build
 * must not rewrite dist/ while the first file's workers are loading it.
 */
export function buildCachePackage(): void {
  try {
    execFileSync("flock", ["/tmp/tbuild-cache-test-build.lock", "npx", "tsc", "-b", "packages/cache"], { cwd: repoRoot, stdio: "pipe" });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`building packages/cache failed:\n${err.stdout?.toString()}${err.stderr?.toString()}`);
  }
}

/** Starts a worker in the given mode. */
export function startWorker(args: string[]): ChildProcess {
  return spawn(process.execPath, [workerPath, ...args], { stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs a worker to completion and returns its stdout; rejects on a non-zero exit. */
export function runWorker(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = startWorker(args);
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`worker ${args[0]} exited ${code}: ${err}`))));
  });
}
