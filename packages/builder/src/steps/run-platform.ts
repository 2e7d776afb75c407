// A RUN runs on the platform of its stage (FROM --platform, else the target). A foreign
// platform's binaries run through QEMU user emulation: Debian's qemu-user-static registered
// in binfmt_misc with the F (fix-binary) flag, so the kernel holds the interpreter open from
// registration on and the sandbox, pivoted into the image's rootfs, needs nothing of the
// host mounted. Where that is missing, running the image's binaries would fail obscurely
// (ENOEXEC) or not at all, so the step fails first, naming the platform and the package.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import type { Platform } from "@tbuild/oci";
import type { BuildSession } from "../solve/session.js";
import type { ImageState } from "../image-state/state.js";
import { BINFMT_DIR as BINFMT, forgetBinfmtEntries, readBinfmtEntry } from "../sandbox/binfmt.js";

const show = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;

/** QEMU's name for an OCI architecture (qemu-user-static installs qemu-<name>-static). */
const QEMU_NAME: Record<string, string> = {
  amd64: "x86_64", "386": "i386", arm64: "aarch64", arm: "arm", riscv64: "riscv64", ppc64le: "ppc64le", s390x: "s390x",
  mips64le: "mips64el", mips64: "mips64", mipsle: "mipsel", mips: "mips", loong64: "loongarch64",
};

/** The platform a RUN of this state runs on: the stage's, else the target. */
export function runPlatformOf(session: BuildSession, state: ImageState): Platform {
  return state.platform ?? session.platforms.target;
}

/** True when the host's CPU runs the platform's binaries itself (amd64 also runs 386). */
export function runsNatively(p: Platform, host: Platform): boolean {
  if (p.os !== host.os) return false;
  return p.architecture === host.architecture || (host.architecture === "amd64" && p.architecture === "386");
}

const checked = new Set<string>();

/** Refuses a RUN whose platform this host can neither run nor emulate. */
export function checkRunPlatform(session: BuildSession, stagePlatform: Platform | undefined): void {
  const p = stagePlatform ?? session.platforms.target;
  const b = session.platforms.build;
  if (runsNatively(p, b)) return;
  if (p.os !== b.os) throw new Error(`cannot run a RUN step for ${show(p)} on this ${show(b)} host: no emulation runs another operating system`);
  const name = QEMU_NAME[p.architecture];
  if (!name) throw new Error(`cannot run a RUN step for ${show(p)} on this ${show(b)} host: QEMU user emulation has no ${p.architecture}`);
  // Only a usable entry is remembered: one registered after a failure is seen by the next build.
  if (checked.has(name)) return;
  const problem = emulationProblem(name);
  if (!problem) checked.add(name);
  else {
    throw new Error(
      `cannot run a RUN step for ${show(p)} on this ${show(b)} host: ${problem}. Emulation needs Debian's qemu-user-static registered in binfmt_misc with the F flag (scripts/setup-emulation.sh ${name} installs and registers it).`,
    );
  }
}

/** Why qemu-<name> cannot run binaries for us, or null when its binfmt_misc entry is usable. */
function emulationProblem(name: string): string | null {
  // Not mounted yet (no systemd here): mount it, as systemd-binfmt would; entries are kernel-wide.
  if (!existsSync(`${BINFMT}/register`)) {
    try {
      execFileSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], { stdio: "ignore" });
      forgetBinfmtEntries(); // the exec check must see the handlers now visible
    } catch {
      return `binfmt_misc is not mounted at ${BINFMT}`;
    }
  }
  const entry = readBinfmtEntry(`qemu-${name}`);
  if (!entry) return `no qemu-${name} entry in ${BINFMT}`;
  if (!entry.enabled) return `${BINFMT}/qemu-${name} is disabled`;
  // Without F the interpreter is looked up inside the rootfs at each exec, where it is not.
  if (!entry.flags.includes("F")) return `${BINFMT}/qemu-${name} is registered without the F (fix-binary) flag`;
  // An entry registered since the exec check read them must be seen by it too.
  forgetBinfmtEntries();
  return null;
}
