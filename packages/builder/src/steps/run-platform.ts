// A RUN runs on the platform of its stage (FROM --platform, else the target). There is no
// emulation yet, so a stage of another platform than the host's cannot run one; running the
// foreign image's binaries natively would build a wrong image or fail obscurely.
import type { Platform } from "@tbuild/oci";
import type { BuildSession } from "../solve/session.js";

const show = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;

export function checkRunPlatform(session: BuildSession, stagePlatform: Platform | undefined): void {
  const p = stagePlatform ?? session.platforms.target;
  const b = session.platforms.build;
  if (p.os !== b.os || p.architecture !== b.architecture) {
    throw new Error(`cannot run a RUN step for ${show(p)} on this ${show(b)} host (no emulation)`);
  }
}
