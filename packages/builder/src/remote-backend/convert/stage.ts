// One stage of the Dockerfile as LLB, in the order dockerfile2llb converts it (convert.go,
// Dockerfile2LLB/dispatch): the base, the base's ONBUILD triggers, then each instruction
// with its words expanded by the parser's StageEvaluator. Instructions that make a layer
// become vertices (run.ts, copy.ts, workdir.ts); the others change only the image config,
// through the same config code the local solver uses.
import { StageEvaluator, parseInstructionLine, type Instruction, type Stage } from "@tbuild/parser";
import type { StepRef } from "../../api-types.js";
import { cloneState } from "../../image-state/state.js";
import { applyMetadata } from "../../solve/run-stage.js";
import { stepLabel } from "../../solve/step-label.js";
import { convertFrom } from "./from.js";
import { convertRun } from "./run.js";
import { convertCopy } from "./copy.js";
import { convertWorkdir } from "./workdir.js";
import type { ConvertState, StageLLB } from "./types.js";

export async function convertStage(cs: ConvertState, stage: Stage): Promise<StageLLB> {
  const { inputs } = cs;
  const total = stage.instructions.length;
  const stageLabel = stage.name ?? String(stage.index);
  // A multi-platform build converts the stages once per target: ids and labels say which.
  const platform = inputs.stepPlatform;
  const ref = (index: number, inst: { original: string; line: number }, id = `s${stage.index}.${index}`): StepRef => {
    const r = { id: platform ? `${platform} ${id}` : id, stage: stageLabel, stageIndex: stage.index, index, total, instruction: inst.original, line: inst.line, ...(platform ? { platform } : {}) };
    return { ...r, label: stepLabel(r, inputs.stageCount) };
  };
  const base = await convertFrom(cs, stage, ref);
  const image = cloneState(base.image);
  image.cmdSet = false;
  const ev = new StageEvaluator({
    globalArgs: inputs.ir.globalArgs,
    buildArgs: inputs.buildArgs,
    baseEnv: image.config.config?.Env ?? [],
    platforms: inputs.platforms,
    escapeToken: inputs.ir.escapeToken,
    file: inputs.ir.file,
    ...(base.parent ? { parent: base.parent.ev } : {}),
  });
  const declared = [...(base.parent?.declared ?? [])];
  let st: StageLLB = { fs: base.fs, image, baseHistory: base.baseHistory, ev, declared };
  const ignoreCache = inputs.noCache || inputs.noCacheFilter.includes(stage.name ?? "");

  const triggers = st.image.config.config?.OnBuild ?? [];
  if (st.image.config.config) st.image.config.config.OnBuild = null;
  for (const [i, text] of triggers.entries()) {
    const inst = parseInstructionLine(text, { file: `ONBUILD trigger ${i + 1} of ${stage.base}` });
    st = await convertInstruction(cs, st, inst, ref(0, { original: `ONBUILD ${text}`, line: stage.line }, `s${stage.index}.t${i}`), ignoreCache);
  }
  for (const [i, inst] of stage.instructions.entries()) {
    st = await convertInstruction(cs, st, inst, ref(i + 1, inst), ignoreCache);
  }
  return st;
}

/** One instruction: the dispatch of dockerfile2llb (convert.go, dispatch), one function per kind. */
async function convertInstruction(cs: ConvertState, st: StageLLB, raw: Instruction, step: StepRef, ignoreCache: boolean): Promise<StageLLB> {
  const runEnv = st.ev.runEnv();
  const inScope = st.ev.argsInScope();
  const historyArgs = st.declared.map((name) => ({ name, value: envValue(runEnv, name) ?? inScope[name] ?? "" }));
  const argDefaults = raw.kind === "arg" ? raw.args.map((a) => ({ name: a.name, default: a.default === undefined ? undefined : st.ev.expandWord(a.default) })) : [];
  const { inst } = st.ev.step(raw);
  const ctx = { cs, step, ignoreCache, env: runEnv, historyArgs };
  switch (inst.kind) {
    case "run":
      return convertRun(ctx, st, inst);
    case "copy":
    case "add":
      return convertCopy(ctx, st, inst);
    case "workdir":
      return convertWorkdir(ctx, st, inst.path);
    case "arg":
      for (const a of inst.args) {
        const i = st.declared.indexOf(a.name);
        if (i >= 0) st.declared.splice(i, 1);
        st.declared.push(a.name);
      }
      cs.steps.push({ step });
      return { ...st, image: applyMetadata(st.image, { ...inst, args: argDefaults }) };
    default:
      cs.steps.push({ step });
      return { ...st, image: applyMetadata(st.image, inst) };
  }
}

function envValue(env: readonly string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) if (env[i]!.startsWith(name + "=")) return env[i]!.slice(name.length + 1);
  return undefined;
}

