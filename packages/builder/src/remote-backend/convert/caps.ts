// LLB capabilities a conversion needs beyond what every daemon has. BuildKit reports its own
// through the LLB bridge's Ping (gateway.PongResponse.LLBCaps, solver/pb/caps.go); a daemon
// that lacks one would refuse the op's metadata cap (llbsolver's WithValidateCaps) with a bare
// "unsupported" — or, for a field it does not know at all, ignore it. So the step is refused
// here, before anything is solved, naming the capability and the BuildKit that has it.
// Docker 20.10's embedded BuildKit (0.8) reports none of these but exec.mount.ssh.
import { ops } from "@tbuild/llb";
import { StepError } from "../../solve/errors.js";
import type { InstructionContext } from "./types.js";

export type LlbCap = (typeof ops.caps)[keyof typeof ops.caps];

/** The first BuildKit release whose daemon reports each capability (git tag --contains of the commit adding it to solver/pb/caps.go). */
const SINCE: Record<LlbCap, string> = {
  "file.copy.includeexcludepatterns": "v0.9",
  "file.copy.requiredpaths": "v0.26",
  "exec.meta.ulimit": "v0.10",
  "exec.secretenv": "v0.10",
  "exec.mount.ssh": "v0.3",
  "exec.mount.tmpfs.size": "v0.10",
  "exec.validexitcode": "v0.17",
  "source.ocilayout": "v0.11",
};

/** A capability asked for on behalf of another feature: what it stands for, said in the message (llb ops.ts, caps). */
const STANDS_FOR: Partial<Record<LlbCap, string>> = {
  "exec.validexitcode": "it stands for the copy's modeStr, which no daemon reports a capability for",
};

/** Whether the daemon reports `cap`. */
export async function daemonHas(ctx: InstructionContext, cap: LlbCap): Promise<boolean> {
  return (await ctx.cs.inputs.llbCaps()).has(cap);
}

/** Refuses the step unless the daemon reports `cap`; `what` names the feature as the Dockerfile or CLI writes it. */
export async function requireCap(ctx: InstructionContext, cap: LlbCap, what: string): Promise<void> {
  if (await daemonHas(ctx, cap)) return;
  throw new StepError(ctx.step, capMessage(what, cap, ctx.cs.inputs.builder));
}

export function capMessage(what: string, cap: LlbCap, builder: string): string {
  const note = STANDS_FOR[cap] ? `; ${STANDS_FOR[cap]}` : "";
  return `${what} needs the BuildKit LLB capability ${cap} (BuildKit ${SINCE[cap]} or newer${note}), which the daemon at ${builder} does not report (Docker 20.10's embedded BuildKit is 0.8): use a newer buildkitd (--builder unix://… or tcp://…), or build without --builder`;
}
