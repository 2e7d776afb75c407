// The stages a multi-platform build's per-target sessions share. Each target platform gets
// its own BuildSession (its TARGET* values, its base images, its steps), and a stage whose
// result cannot depend on the target is built once for all of them: the memo here is keyed
// by what a stage's result depends on, so two targets meet on one key exactly when their
// runs of the stage would be the same — the stage's index, its resolved base and the
// platform its steps run on (FROM --platform, else the target), the target itself when the
// stage's text names a TARGET* arg (an ARG of it is in scope only where declared) or it
// reads an image (COPY --from=alpine: the target's), and the keys of the stages it reads
// from (FROM, COPY --from, RUN --mount from=). So
// `FROM --platform=$BUILDPLATFORM golang AS build` with no TARGET* arg builds once, and with
// `ARG TARGETARCH` once per target, natively each time. Besides the stages the sessions
// share one limit on RUN steps, one walk of the context and one record of reported errors.
import { formatPlatform, resolveStageBase, type Stage, type StageEvaluator } from "@tbuild/parser";
import type { ContextIndex } from "@tbuild/cache";
import type { ImageState } from "../image-state/state.js";
import type { Limiter } from "../util/limiter.js";
import type { DockerfileIR } from "@tbuild/parser";
import type { Platform } from "@tbuild/oci";

/** What the share key of a stage is computed from: a session's view of the build (not the session itself, which uses this module). */
export interface ShareContext {
  ir: DockerfileIR;
  buildArgs: ReadonlyMap<string, string>;
  platforms: { target: Platform; build: Platform };
  opts?: { buildContexts?: Record<string, string> };
}

const TARGET_ARG = /\bTARGET(?:PLATFORM|OS|ARCH|VARIANT)\b/;

/** What a session that did not run a shared stage takes from the one that did. */
export interface StageOutcome {
  state: ImageState;
  scope?: { ev: StageEvaluator; declared: string[] };
  reused?: boolean;
}

/** A stage's place in the shared memo, and how its steps are labelled. */
export interface StageShare {
  key: string;
  /** "linux/amd64" for a stage built once for every target; "linux/amd64->linux/arm64" for a build-platform stage run per target. */
  label: string;
}

/** What the keys of the stages that read a stage need of it. */
export interface StageShareInfo extends StageShare {
  perTarget: boolean;
  /** The platform its steps run on. */
  runsOn: string;
}

export class SharedStages {
  private readonly memo = new Map<string, Promise<StageOutcome>>();
  /** A failure of a shared stage is reported once, by the target that ran it. */
  readonly reportedErrors = new WeakSet<object>();
  /** The build context, walked once for every target. */
  contextIndex?: Promise<ContextIndex>;

  /** `runLimiter`: one limit on RUN steps at once across every target (the machine's cores). */
  constructor(readonly runLimiter: Limiter) {}

  /** The outcome of the stage under `share.key`, run by the first session that asks. */
  outcome(share: StageShare, run: () => Promise<StageOutcome>): Promise<StageOutcome> {
    let p = this.memo.get(share.key);
    if (!p) this.memo.set(share.key, (p = run()));
    return p;
  }
}

/**
 * True when a COPY/ADD --from or a RUN --mount from= names an image (or a named context, or
 * a word with variables) rather than a stage: the image is the target's platform's, as in
 * BuildKit, so the stage is per target.
 */
function readsImage(stage: Stage): boolean {
  return stage.instructions.some((i) => {
    if (i.kind === "copy" || i.kind === "add") return "from" in i && i.from !== undefined && i.fromStage === undefined;
    if (i.kind === "run") return i.mounts.some((m) => (("from" in m && m.from !== undefined) || (m.hasVariables && /\bfrom=/.test(m.raw))) && m.fromStage === undefined);
    return false;
  });
}

/** The share key and label of `stage` in `session` (keys of the stages it reads are computed alike). */
export function stageShare(session: ShareContext, stage: Stage, seen = new Map<number, StageShareInfo>()): StageShareInfo {
  const known = seen.get(stage.index);
  if (known) return known;
  const target = formatPlatform(session.platforms.target);
  let base: string;
  let runsOn = target;
  let fromTarget = true;
  try {
    const r = resolveStageBase(stage, session.ir.globalArgs, session.buildArgs, session.platforms, { escapeToken: session.ir.escapeToken, file: session.ir.file });
    base = r.base;
    // BuildKit builds scratch for the target whatever --platform says.
    if (r.platform && base !== "scratch") [runsOn, fromTarget] = [r.platform, false];
  } catch {
    // An unresolvable FROM fails in the stage's run; such a stage is not shared.
    return { key: JSON.stringify([stage.index, "!", target]), label: target, perTarget: true, runsOn: target };
  }
  const reads = new Set(stage.dependencies.map((d) => d.stage));
  // FROM <stage> (a named build context wins over a stage, as in resolveBase): its steps run
  // where the parent's did, whatever this FROM's --platform says.
  const contexts = session.opts?.buildContexts ?? {};
  const isContext = base in contexts || base.toLowerCase() in contexts;
  const parent = isContext ? undefined : (stage.baseStage ?? session.ir.stages.find((s) => s.index < stage.index && s.name === base.toLowerCase())?.index);
  if (parent !== undefined) {
    reads.add(parent);
    [runsOn, fromTarget] = [stageShare(session, session.ir.stages[parent]!, seen).runsOn, false];
  }
  const deps = [...reads].sort((a, b) => a - b).map((i) => stageShare(session, session.ir.stages[i]!, seen));
  const usesTarget = TARGET_ARG.test(stage.original) || stage.instructions.some((i) => TARGET_ARG.test(i.original));
  const perTarget = fromTarget || usesTarget || readsImage(stage) || deps.some((d) => d.perTarget);
  const key = JSON.stringify([stage.index, base, runsOn, perTarget ? target : null, deps.map((d) => d.key)]);
  const share = { key, label: perTarget && runsOn !== target ? `${runsOn}->${target}` : runsOn, perTarget, runsOn };
  seen.set(stage.index, share);
  return share;
}
