// Shared set-up for end-to-end build tests: a store on tmpfs with the busybox fixture base
// image imported, and helpers to build and read results.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build, importRootfs, type BuildEvent, type BuildOptions, type BuildResult } from "@tbuild/builder";

export const repo = path.resolve(__dirname, "../..");

export interface BuildEnv {
  work: string;
  root: string;
  rootfsTar: string;
  /** Builds and collects events; rejects like build() does. */
  run(opts: Omit<BuildOptions, "root">): Promise<{ result: BuildResult; events: BuildEvent[] }>;
  /** Writes files (path → content) under a new context dir and returns it. */
  context(files: Record<string, string>): string;
  dispose(): void;
}

/** A fresh store with `busybox:latest` (and `tbuild-fixture/busybox:latest`) imported. */
export async function makeBuildEnv(opts: { executor?: "runc" | "unshare"; snapshotter?: "overlay" | "copy" } = {}): Promise<BuildEnv> {
  const work = mkdtempSync("/dev/shm/tbuild-e2e-");
  const root = path.join(work, "store");
  const rootfsTar = path.join(work, "rootfs.tar");
  execFileSync("bash", [path.join(repo, "fixtures/base/busybox-rootfs.sh"), rootfsTar], { stdio: "pipe" });
  for (const ref of ["busybox:latest", "tbuild-fixture/busybox:latest"]) {
    await importRootfs({ tarPath: rootfsTar, ref, root, changes: ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sh"]'] });
  }
  let n = 0;
  return {
    work,
    root,
    rootfsTar,
    async run(o) {
      const events: BuildEvent[] = [];
      const h = build({ ...o, root, executor: opts.executor, snapshotter: opts.snapshotter });
      for await (const e of h) events.push(e);
      return { result: await h.result, events };
    },
    context(files) {
      const dir = path.join(work, `ctx${n++}`);
      for (const [p, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
        writeFileSync(path.join(dir, p), content);
      }
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    dispose() {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
