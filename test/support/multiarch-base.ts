// The multi-platform base image of the multi-platform tests: busybox for linux/amd64 and
// linux/arm64/v8 in one OCI index, made offline by fixtures/base/multiarch-layout.sh (kept on
// tmpfs and reused between runs) and copied into a test's registry by skopeo, so what a
// build starts from owes nothing to tbuild. Needs root, qemu-user-static registered in
// binfmt_misc (scripts/setup-emulation.sh), skopeo, jq and Debian's arm64 busybox-static.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { repo } from "./build-env.js";

export const MULTIARCH_LAYOUT = process.env.TBUILD_MULTIARCH_LAYOUT ?? "/dev/shm/tbuild-fixture-multiarch-busybox";

/** Makes the layout if it is missing; returns its directory. */
export function multiarchLayout(): string {
  execFileSync("bash", [path.join(repo, "fixtures/base/multiarch-layout.sh"), MULTIARCH_LAYOUT], { stdio: "pipe" });
  return MULTIARCH_LAYOUT;
}

/** Pushes the two-platform busybox index to `registryHost` as `repo:tag`; returns the reference. */
export function pushMultiarchBase(registryHost: string, name = "library/busybox-multi:latest"): string {
  const ref = `${registryHost}/${name}`;
  execFileSync("skopeo", ["copy", "--quiet", "--all", "--dest-tls-verify=false", `oci:${multiarchLayout()}:latest`, `docker://${ref}`], { stdio: "pipe" });
  return ref;
}
