// The multi-platform base images of the multi-platform tests: busybox (or Debian 12 minbase)
// for linux/amd64 and linux/arm64/v8 in one OCI index, made offline by fixtures/base/multiarch-layout.sh (kept on
// tmpfs and reused between runs) and copied into a test's registry by skopeo, so what a
// build starts from owes nothing to tbuild. Needs root, qemu-user-static registered in
// binfmt_misc (scripts/setup-emulation.sh), skopeo, jq and Debian's arm64 busybox-static.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { repo } from "./build-env.js";

export type MultiarchKind = "busybox" | "debian";

/** Where the layout of each kind is kept (tmpfs, reused between runs). */
export const multiarchLayoutDir = (kind: MultiarchKind) => process.env[`TBUILD_MULTIARCH_${kind.toUpperCase()}`] ?? `/dev/shm/tbuild-fixture-multiarch-${kind}`;

/** Makes the layout if it is missing (Debian: minutes the first time); returns its directory. */
export function multiarchLayout(kind: MultiarchKind = "busybox"): string {
  const dir = multiarchLayoutDir(kind);
  execFileSync("bash", [path.join(repo, "fixtures/base/multiarch-layout.sh"), dir, kind], { stdio: "pipe", timeout: 1_200_000 });
  return dir;
}

/** Pushes the two-platform index of `kind` to `registryHost` as `name`; returns the reference. */
export function pushMultiarchBase(registryHost: string, name = "library/busybox-multi:latest", kind: MultiarchKind = "busybox"): string {
  const ref = `${registryHost}/${name}`;
  execFileSync("skopeo", ["copy", "--quiet", "--all", "--dest-tls-verify=false", `oci:${multiarchLayout(kind)}:latest`, `docker://${ref}`], { stdio: "pipe" });
  return ref;
}
