// The store both differential suites build in: on tmpfs, with the fixture base image
// imported exactly as test/differential/regen.sh imports it into dockerd (same rootfs tar,
// same PATH, same history message), so tbuild and BuildKit start from the same image.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { importRootfs } from "@tbuild/builder";

export const repo = path.resolve(__dirname, "../..");

export interface DifferentialStore {
  work: string;
  root: string;
  /** The base image's rootfs tar (image-tree.mjs describes images as a difference from it). */
  rootfsTar: string;
  dispose(): void;
}

/** A fresh store holding `tbuild-fixture/busybox:latest`. */
export async function differentialStore(prefix: string): Promise<DifferentialStore> {
  const work = mkdtempSync(`/dev/shm/${prefix}-`);
  const root = path.join(work, "store");
  const rootfsTar = path.join(work, "rootfs.tar");
  execFileSync("bash", [path.join(repo, "fixtures/base/busybox-rootfs.sh"), rootfsTar], { stdio: "pipe" });
  await importRootfs({
    tarPath: rootfsTar,
    ref: "tbuild-fixture/busybox:latest",
    root,
    message: "Imported from -",
    changes: ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  });
  return { work, root, rootfsTar, dispose: () => rmSync(work, { recursive: true, force: true }) };
}
