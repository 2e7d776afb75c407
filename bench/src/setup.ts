// What every harness mode needs first: scratch directories on /dev/shm, a local
// registry, the busybox base image pushed to it, and the workloads written for it.

import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { publishBaseImage } from "./base-image.js";
import { benchDirs, TBUILD_MAIN, type BenchDirs } from "./paths.js";
import { startRegistry, type LocalRegistry } from "./registry.js";
import type { WorkloadName } from "./workload-defs.js";
import { prepareWorkload, type Workload } from "./workloads.js";

export interface BenchEnv {
  dirs: BenchDirs;
  registry: LocalRegistry;
  baseRef: string;
  workloads: Workload[];
  /** Log of setup commands. */
  setupLog: string;
}

/** Console output of the harness (stderr, so stdout can be piped to a file as the table). */
export function say(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** Sets up scratch dirs, registry, base image and workloads. */
export async function setUp(names: readonly WorkloadName[], regenerate: boolean): Promise<BenchEnv> {
  if (!existsSync(TBUILD_MAIN)) throw new Error(`${TBUILD_MAIN} is missing: build tbuild first (npm run build)`);
  say(`tbuild CLI: ${TBUILD_MAIN} (modified ${statSync(TBUILD_MAIN).mtime.toISOString()})`);
  const dirs = benchDirs();
  for (const d of [dirs.logs, dirs.stores, dirs.out]) rmSync(d, { recursive: true, force: true });
  for (const d of [dirs.root, dirs.workloads, dirs.logs, dirs.out, dirs.stores]) mkdirSync(d, { recursive: true });
  const setupLog = path.join(dirs.logs, "setup.log");
  const registry = await startRegistry(dirs.registry);
  say(`registry on ${registry.host} (pid ${registry.pid}, data ${dirs.registry})`);
  try {
    const baseRef = await publishBaseImage(dirs.base, registry.host, setupLog);
    say(`base image ${baseRef} (busybox-static via fixtures/base/busybox-rootfs.sh, tbuild import + push)`);
    const workloads = names.map((n) => prepareWorkload(dirs.workloads, n, baseRef, regenerate, say));
    return { dirs, registry, baseRef, workloads, setupLog };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}
