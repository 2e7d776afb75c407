// Builds one stage: resolves its base, runs the base image's ONBUILD triggers, then
// every instruction in order, expanding words with the variables in scope before each.
import { StageEvaluator, locateWord, parseInstructionLine, parsePlatform, resolveStageBase, type Instruction, type Stage } from "@tbuild/parser";
import type { StepRef } from "../api-types.js";
import { stepLabel } from "./step-label.js";
import * as ops from "../image-state/config-ops.js";
import { cloneState, type ImageState } from "../image-state/state.js";
import { scratchState, withDefaultPath, withPlatform } from "../image-state/stage-defaults.js";
import { checkRunPlatform } from "../steps/run-platform.js";
import { runStep } from "../steps/run.js";
import { copyStep } from "../steps/copy.js";
import { workdirStep } from "../steps/workdir.js";
import { BuildAbortedError, StepError, StepFailedError } from "./errors.js";
import type { BuildSession } from "./session.js";
import { namedContext } from "./named-contexts.js";
import { fromCacheInfo } from "./explain/origins.js";

export async function runStage(session: BuildSession, stage: Stage): Promise<ImageState> {
  const total = stage.instructions.length;
  const stageLabel = stage.name ?? String(stage.index);
  // A multi-platform build runs a stage per target (or once for all): ids and labels say which.
  const platform = session.stepPlatform(stage.index);
  const ref = (index: number, inst: { original: string; line: number }, id = `s${stage.index}.${index}`): StepRef => {
    const r = {
      id: platform ? `${platform} ${id}` : id,
      stage: stageLabel,
      stageIndex: stage.index,
      index,
      total,
      instruction: inst.original,
      line: inst.line,
      ...(platform ? { platform } : {}),
    };
    return { ...r, label: stepLabel(r, session.stageCount) };
  };

  // Resolved once: progress shows the resolved name, and resolveBase loads it. A word that
  // cannot be resolved is shown as written and fails inside the FROM step.
  let resolved: ResolvedBase | undefined;
  let unresolvable: unknown;
  try {
    resolved = resolveStageBase(stage, session.ir.globalArgs, session.buildArgs, session.platforms, { escapeToken: session.ir.escapeToken, file: session.ir.file });
  } catch (e) {
    unresolvable = e;
  }
  const fromStep = ref(0, { original: fromShown(stage, resolved?.base), line: stage.line });
  const started = Date.now();
  session.emit({ type: "step-start", step: fromStep, time: started });
  let base: BaseOfStage;
  try {
    if (!resolved) throw unresolvable;
    base = await resolveBase(session, stage, resolved);
  } catch (e) {
    throw failStep(session, fromStep, e);
  }
  let state = withDefaultPath(base.state);
  // FROM does work only when it pulls; a base at hand is reported as cached (BuildKit too).
  const fromStatus = base.pulled ? "ran" : "cached";
  const fromMs = Date.now() - started;
  session.emit({ type: "step-done", step: fromStep, status: fromStatus, durationMs: fromMs, time: Date.now() });
  session.recordStep(fromStep, fromStatus, fromMs, undefined, fromCacheInfo(session, base.state.fsKey));
  // Whether everything so far in this stage is the previous build's (metadata steps' `cached`).
  const progress = { reused: fromStatus === "cached" && base.parentReused !== false };

  const ev = new StageEvaluator({
    globalArgs: session.ir.globalArgs,
    buildArgs: session.buildArgs,
    baseEnv: state.config.config?.Env ?? [],
    platforms: session.platforms,
    escapeToken: session.ir.escapeToken,
    file: session.ir.file,
    ...(base.parent ? { parent: base.parent } : {}),
  });
  state = cloneState(state);
  state.cmdSet = false;
  const noCache = session.noCacheFor(stage);
  // ARG names declared in this stage (and inherited from a parent stage), in order.
  const declared = [...(base.parentArgs ?? [])];

  // ONBUILD triggers of the base run first, and are not passed further down.
  const triggers = state.config.config?.OnBuild ?? [];
  if (state.config.config) state.config.config.OnBuild = null;
  for (const [i, text] of triggers.entries()) {
    const inst = parseInstructionLine(text, { file: `ONBUILD trigger ${i + 1} of ${stage.base}` });
    const step = ref(0, { original: `ONBUILD ${text}`, line: stage.line }, `s${stage.index}.t${i}`);
    state = await dispatch(session, ev, declared, state, inst, step, noCache, progress.reused);
    progress.reused &&= keepsReuse(session, step);
  }
  for (const [i, inst] of stage.instructions.entries()) {
    session.throwIfAborted();
    const step = ref(i + 1, inst);
    state = await dispatch(session, ev, declared, state, inst, step, noCache, progress.reused);
    progress.reused &&= keepsReuse(session, step);
  }
  session.stageEvaluators.set(stage.index, { ev, declared });
  session.stageReused.set(stage.index, progress.reused);
  return state;
}

/**
 * FROM as progress shows it: with the base name resolved (`FROM ${BASE}` → `FROM busybox`),
 * as BuildKit names the step after the image it loads. Flags and `AS name` stay as written;
 * a base that cannot be resolved is shown as written and fails in resolveBase.
 */
function fromShown(stage: Stage, base: string | undefined): string {
  if (base === undefined || base === stage.base) return stage.original;
  // The base is the first word after the keyword that is not a --flag.
  const words = stage.original.split(/([ \t]+)/);
  for (let i = 2; i < words.length; i += 2) {
    if (words[i]!.startsWith("--")) continue;
    if (words[i] !== stage.base) return stage.original;
    words[i] = base;
    return words.join("");
  }
  return stage.original;
}

/** A cached or metadata step leaves the stage's result the previous build's; one that ran does not. */
function keepsReuse(session: BuildSession, step: StepRef): boolean {
  const status = session.statusOf(step.id);
  return status === "cached" || status === "metadata";
}

type ResolvedBase = ReturnType<typeof resolveStageBase>;

interface BaseOfStage {
  state: ImageState;
  /** For `FROM <stage>`: that stage's variable scope (inherited) and whether it was all reused. */
  parent?: StageEvaluator;
  parentArgs?: string[];
  parentReused?: boolean;
  /** The base image was pulled from a registry by this build. */
  pulled?: boolean;
}

/** The base state, and for `FROM <stage>` that stage's variable scope (inherited). */
async function resolveBase(session: BuildSession, stage: Stage, { base, platform }: ResolvedBase): Promise<BaseOfStage> {
  const stagePlatform = () => (platform ? parsePlatform(platform) : session.platforms.target);
  const context = await namedContext(session, base);
  if (context?.kind === "dir") throw new Error(`FROM ${base}: the build context ${base} is a directory, not an image`);
  if (context) {
    const value = session.opts.buildContexts?.[base] ?? session.opts.buildContexts?.[base.toLowerCase()] ?? "";
    return { state: withPlatform(context.state, stagePlatform()), pulled: session.pulledImages.has(value.replace(/^docker-image:\/\//, "")) };
  }
  const named = stage.baseStage ?? session.ir.stages.find((s) => s.index < stage.index && s.name === base.toLowerCase())?.index;
  if (named !== undefined) {
    const state = await session.stage(named);
    const scope = session.stageEvaluators.get(named);
    return { state, parent: scope?.ev, parentArgs: scope?.declared, parentReused: session.stageReused.get(named) };
  }
  // BuildKit builds scratch for the target platform, whatever FROM --platform says.
  if (base === "scratch") return { state: scratchState(session.platforms.target) };
  const state = withPlatform(await session.image(base, platform), stagePlatform());
  return { state, pulled: session.pulledImages.has(base) };
}

/** Reports a failing step as an event, once, and gives the error its step. */
function failStep(session: BuildSession, step: StepRef, e: unknown): Error {
  // Stopped by the caller: a cancelled build, not a failed step.
  if (session.opts.signal?.aborted) return new BuildAbortedError(session.opts.signal.reason);
  const err = asStepError(step, e);
  if (!session.reportedErrors.has(err) && err.name !== "BuildAbortedError" && err.name !== "CacheImportError") {
    session.reportedErrors.add(err);
    session.emit({ type: "step-error", step, message: err.message, time: Date.now() });
  }
  return err;
}

function asStepError(step: StepRef, e: unknown): Error {
  if (e instanceof StepError || e instanceof StepFailedError || (e as Error)?.name === "BuildAbortedError") return e as Error;
  // Not the step's failure: build() builds again without the imported cache.
  if ((e as Error)?.name === "CacheImportError") return e as Error;
  if ((e as Error)?.name === "DockerfileSyntaxError") return e as Error;
  return new StepError(step, (e as Error)?.message ?? String(e), { cause: e });
}

/** Runs one instruction; metadata instructions finish at once and are reported as such. */
async function dispatch(
  session: BuildSession,
  ev: StageEvaluator,
  declared: string[],
  state: ImageState,
  raw: Instruction,
  step: StepRef,
  noCache: boolean,
  reused: boolean,
): Promise<ImageState> {
  let expanded: Instruction | undefined;
  try {
    // Environment as it is before the instruction (one snapshot per instruction).
    const runEnv = ev.runEnv();
    const inScope = ev.argsInScope();
    const historyArgs = declared.map((name) => ({ name, value: envValue(runEnv, name) ?? inScope[name] ?? "" }));
    // History shows an ARG's default as written (expanded), not the value it takes.
    const argDefaults = raw.kind === "arg" ? raw.args.map((a) => ({ name: a.name, value: a.default === undefined ? undefined : ev.expandWord(a.default) })) : [];
    const { inst } = ev.step(raw);
    expanded = inst;
    if (inst.kind === "arg") {
      for (const a of inst.args) {
        const i = declared.indexOf(a.name);
        if (i >= 0) declared.splice(i, 1);
        declared.push(a.name);
      }
      return metadataStep(session, step, state, { ...inst, args: argDefaults.map((a) => ({ name: a.name, default: a.value })) }, reused);
    }
    switch (inst.kind) {
      case "run":
        checkRunPlatform(session, state.platform);
        return await runStep({ session, step, noCache, env: runEnv, historyArgs }, state, inst);
      case "copy":
      case "add":
        return await copyStep({ session, step, noCache }, state, inst);
      case "workdir":
        return await workdirStep({ session, step, noCache }, state, inst.path);
      default:
        return metadataStep(session, step, state, inst, reused);
    }
  } catch (e) {
    throw failStep(session, step, withSourceLocation(session, step, raw, expanded, e));
  }
}

/**
 * A missing COPY/ADD source as a StepError that points at its word (file:line:column). The
 * file operation names the expanded word; its raw form, at the same index, is found in the source.
 */
function withSourceLocation(session: BuildSession, step: StepRef, raw: Instruction, expanded: Instruction | undefined, e: unknown): unknown {
  const word = (e as { source?: unknown })?.source;
  if ((e as Error)?.name !== "FileOpError" || typeof word !== "string") return e;
  if ((raw.kind !== "copy" && raw.kind !== "add") || (expanded?.kind !== "copy" && expanded?.kind !== "add")) return e;
  const i = expanded.sources.indexOf(word);
  if (i < 0 || step.index === 0) return e; // ONBUILD triggers have no place in this file
  const at = locateWord(raw, raw.sources.slice(0, i + 1), 0, session.ir.escapeToken);
  if (!at) return e;
  return new StepError(step, (e as Error).message, { cause: e, location: { file: session.ir.file, line: at.line, column: at.column } });
}

function envValue(env: readonly string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i]!;
    if (e.startsWith(name + "=")) return e.slice(name.length + 1);
  }
  return undefined;
}

/** `reused`: every earlier step of the stage was cached, so this config change is the last build's too. */
function metadataStep(session: BuildSession, step: StepRef, state: ImageState, inst: Instruction, reused: boolean): ImageState {
  const now = Date.now();
  session.emit({ type: "step-start", step, time: now });
  const next = applyMetadata(state, inst);
  session.emit({ type: "step-done", step, status: "metadata", durationMs: 0, time: now });
  session.recordStep(step, "metadata", 0, reused);
  return next;
}

/** Shell form of CMD/ENTRYPOINT runs through the current SHELL. */
function argvOf(state: ImageState, inst: { form: "shell"; command: string } | { form: "exec"; command: string[] }): string[] {
  if (inst.form === "exec") return inst.command;
  return [...(state.config.config?.Shell ?? ["/bin/sh", "-c"]), inst.command];
}

/** Applies a metadata instruction (ENV, LABEL, CMD …) to the image config; shared with the remote backend. */
export function applyMetadata(state: ImageState, inst: Instruction): ImageState {
  switch (inst.kind) {
    case "env":
      return ops.applyEnv(state, inst.pairs);
    case "label":
      return ops.applyLabel(state, inst.pairs);
    case "expose":
      return ops.applyExpose(state, inst.ports);
    case "volume":
      return ops.applyVolume(state, inst.paths);
    case "user":
      return ops.applyUser(state, inst.user);
    case "stopsignal":
      return ops.applyStopSignal(state, inst.signal);
    case "shell":
      return ops.applyShell(state, inst.shell);
    case "maintainer":
      return ops.applyMaintainer(state, inst.name);
    case "arg":
      return ops.applyArgHistory(state, inst.args.map((a) => ({ name: a.name, value: a.default })));
    case "onbuild":
      return ops.applyOnbuild(state, inst.triggerText);
    case "cmd":
      return ops.applyCmd(state, argvOf(state, inst));
    case "entrypoint":
      return ops.applyEntrypoint(state, argvOf(state, inst));
    case "healthcheck":
      return ops.applyHealthcheck(state, {
        test: inst.test === "NONE" ? ["NONE"] : inst.test,
        interval: inst.interval,
        timeout: inst.timeout,
        startPeriod: inst.startPeriod,
        startInterval: inst.startInterval,
        retries: inst.retries,
      });
    default:
      throw new Error(`internal: ${inst.kind} is not a metadata instruction`);
  }
}
