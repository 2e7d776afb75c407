// FROM: the stage's filesystem and config. An image is a docker-image:// source op
// (dockerfile2llb: llb.Image with the stage's platform) whose config tbuild reads itself
// (the resolver: the daemon's image store for Docker, else the registry); another stage is
// that stage's state and variable scope; scratch is no vertex at all (llb.Scratch()).
import { parsePlatform, resolveStageBase, type Stage } from "@tbuild/parser";
import { parseReference } from "@tbuild/oci";
import { ops } from "@tbuild/llb";
import type { StepRef } from "../../api-types.js";
import type { ImageState } from "../../image-state/state.js";
import { scratchState, withDefaultPath, withPlatform } from "../../image-state/stage-defaults.js";
import type { ConvertState, StageLLB } from "./types.js";

export interface StageBase {
  fs: StageLLB["fs"];
  image: ImageState;
  baseHistory: number;
  parent?: StageLLB;
}

export async function convertFrom(cs: ConvertState, stage: Stage, ref: (i: number, inst: { original: string; line: number }) => StepRef): Promise<StageBase> {
  const { inputs } = cs;
  const { base, platform } = resolveStageBase(stage, inputs.ir.globalArgs, inputs.buildArgs, inputs.platforms, { escapeToken: inputs.ir.escapeToken, file: inputs.ir.file });
  const fromStep = ref(0, { original: base === stage.base ? stage.original : stage.original.replace(stage.base, base), line: stage.line });
  const named = stage.baseStage ?? inputs.ir.stages.find((s) => s.index < stage.index && s.name === base.toLowerCase())?.index;
  if (named !== undefined) {
    const parent = await cs.stage(named);
    cs.steps.push({ step: fromStep });
    return { fs: parent.fs, image: parent.image, baseHistory: parent.baseHistory, parent };
  }
  const stagePlatform = platform ? parsePlatform(platform) : inputs.platforms.target;
  if (base === "scratch") {
    cs.steps.push({ step: fromStep });
    return { fs: undefined, image: scratchState(inputs.platforms.target), baseHistory: 0 };
  }
  const reference = parseReference(base);
  const config = await inputs.resolveBase(reference.toString(), stagePlatform);
  const history = config.history ?? [];
  const image: ImageState = {
    config: structuredClone(config),
    layers: [],
    fsKey: "",
    cmdSet: false,
    created: history.at(-1)?.created ?? config.created ?? new Date(0).toISOString(),
  };
  const fs = ops.source(`docker-image://${reference.toString()}`, {}, { platform: stagePlatform, name: fromStep.label });
  cs.steps.push({ step: fromStep, vertex: fs!.vertex });
  return { fs, image: withPlatform(withDefaultPath(image), stagePlatform), baseHistory: history.length };
}
