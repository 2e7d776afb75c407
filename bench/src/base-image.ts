// The base image of every workload: busybox from Debian's busybox-static, turned into a
// root filesystem tarball by fixtures/base/busybox-rootfs.sh, imported with
// `tbuild import` into a seed store and pushed with `tbuild push` to the local registry.
// Builds then pull it from there, as a cold build pulls its base from a registry.

import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { BUSYBOX_ROOTFS_SCRIPT } from "./paths.js";
import { runOk } from "./proc.js";
import { tbuildArgv } from "./tbuild-cli.js";

/** Makes the base image and pushes it as `<registryHost>/library/busybox:latest`. */
export async function publishBaseImage(baseDir: string, registryHost: string, log: string): Promise<string> {
  rmSync(baseDir, { recursive: true, force: true });
  mkdirSync(baseDir, { recursive: true });
  const tarball = path.join(baseDir, "busybox-rootfs.tar");
  const seedRoot = path.join(baseDir, "store");
  const ref = `${registryHost}/library/busybox:latest`;
  await runOk(["bash", BUSYBOX_ROOTFS_SCRIPT, tarball], { log });
  await runOk(tbuildArgv(seedRoot, ["import", "--change", 'CMD ["sh"]', tarball, ref]), { log });
  await runOk(tbuildArgv(seedRoot, ["push", ref]), { log });
  return ref;
}
