// Shared setup of the CLI end-to-end tests that build: a store root on /dev/shm with
// a busybox base image imported from Debian's busybox-static (no registry needed),
// and checks for the external validators (skopeo, umoci).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repoRoot, shmTempDir, tbuild, type CliOptions, type CliResult } from "./run-cli.js";

/** True if `tool` is on PATH. In CI a missing tool fails the test instead of skipping it. */
export function haveTool(tool: string): boolean {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
  if (!found && process.env.CI === "true") throw new Error(`${tool} is required in CI (scripts/setup.sh installs it)`);
  return found;
}

export interface BuildEnv {
  dir: string;
  root: string;
  busyboxTar: string;
  /** Runs `tbuild --root ROOT ARGS` in `dir` (or opts.cwd). */
  run(args: string[], opts?: CliOptions): Promise<CliResult>;
  /** Writes files (path → text) under `dir`, creating directories. */
  write(files: Record<string, string>): void;
  cleanup(): void;
}

/** Creates a temp dir and store root, and imports busybox as `busybox:latest` (and `aliases`). */
export async function createBuildEnv(prefix: string, aliases: string[] = []): Promise<BuildEnv> {
  const { dir, cleanup } = shmTempDir(prefix);
  const root = join(dir, "root");
  const busyboxTar = join(dir, "busybox.tar");
  execFileSync("bash", [join(repoRoot, "fixtures/base/busybox-rootfs.sh"), busyboxTar], { stdio: "ignore" });
  const env: BuildEnv = {
    dir,
    root,
    busyboxTar,
    run: (args, opts = {}) => tbuild(["--root", root, ...args], { cwd: dir, timeoutMs: 300_000, ...opts }),
    write(files) {
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), text);
      }
    },
    cleanup,
  };
  for (const name of ["busybox:latest", ...aliases]) {
    const r = await env.run(["import", busyboxTar, name]);
    if (r.code !== 0) throw new Error(`tbuild import failed: ${r.stderr}`);
  }
  return env;
}

/** Parses the non-empty lines of a --progress rawjson stream. */
export function rawEvents(stderr: string): { type: string; [k: string]: unknown }[] {
  return stderr.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as { type: string });
}
