// Where the harness finds tbuild and where it keeps its scratch data. Everything large
// lives on /dev/shm: the ext4 root disk of the bench machines slows file creation down
// progressively over create/delete cycles (see ../shared/tools/peers/README.md).

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (bench/dist/paths.js → ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The tbuild CLI the harness measures: env TBUILD_BENCH_CLI if set, else the esbuild bundle
 * users run (packages/cli/bundle/main.js, made by `npm run build`), else the tsc output.
 */
export const TBUILD_MAIN =
  process.env.TBUILD_BENCH_CLI ??
  firstExisting(path.join(REPO_ROOT, "packages", "cli", "bundle", "main.js"), path.join(REPO_ROOT, "packages", "cli", "dist", "main.js")) ??
  path.join(REPO_ROOT, "packages", "cli", "dist", "main.js");

/**
 * The `tbuild` command users put on PATH: the bundle's client (native/tbuild, which hands
 * commands to warm workers; TBUILD_WARM=0 runs each cold), when measuring the bundle and it
 * was built (packages/cli/native/build.sh needs gcc and Node's headers).
 */
export const TBUILD_CLIENT =
  TBUILD_MAIN.endsWith(path.join("bundle", "main.js")) && existsSync(path.join(path.dirname(TBUILD_MAIN), "native", "tbuild"))
    ? path.join(path.dirname(TBUILD_MAIN), "native", "tbuild")
    : undefined;

/** Script that makes the busybox root filesystem tarball. */
export const BUSYBOX_ROOTFS_SCRIPT = path.join(REPO_ROOT, "fixtures", "base", "busybox-rootfs.sh");

/** Peer tool scripts shared by the project (read-only; used when present). */
export const PEERS_DIR = path.resolve(REPO_ROOT, "..", "shared", "tools", "peers");

/** Scratch layout under one root (default /dev/shm/tbuild-bench, env TBUILD_BENCH_DIR). */
export interface BenchDirs {
  root: string;
  workloads: string;
  logs: string;
  out: string;
  results: string;
  registry: string;
  base: string;
  stores: string;
  profiles: string;
}

/** The scratch directories of one harness invocation. */
export function benchDirs(root = process.env.TBUILD_BENCH_DIR ?? "/dev/shm/tbuild-bench"): BenchDirs {
  return {
    root,
    workloads: path.join(root, "workloads"),
    logs: path.join(root, "logs"),
    out: path.join(root, "out"),
    results: path.join(root, "results.tsv"),
    registry: path.join(root, "registry"),
    base: path.join(root, "base"),
    stores: path.join(root, "stores"),
    profiles: path.join(root, "profiles"),
  };
}

/** First existing path of the candidates, or undefined. */
export function firstExisting(...candidates: string[]): string | undefined {
  return candidates.find((p) => existsSync(p));
}
