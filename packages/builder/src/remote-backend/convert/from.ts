// FROM: the stage's filesystem and config. An image is a docker-image:// source op
// (dockerfile2llb: llb.Image with the stage's platform) whose config tbuild reads itself
// (the resolver: the daemon's image store for Docker, else the registry); another stage is
// that stage's state and variable scope; scratch is no vertex at all (llb.Scratch()). A
// named context of the base's name comes first: docker-image:// is that image, oci-layout://
// a layout the daemon reads through the session (named-context.ts), a directory is refused as
// the local build refuses it.
import { parsePlatform, resolveStageBase, type Stage } from "@tbuild/parser";
import { parseReference, type ImageConfig, type Platform } from "@tbuild/oci";
import { ops } from "@tbuild/llb";
import type { StepRef } from "../../api-types.js";
import type { ImageState } from "../../image-state/state.js";
import { scratchState, withDefaultPath, withPlatform } from "../../image-state/stage-defaults.js";
import type { ConvertState, StageLLB } from "./types.js";
import { namedContextValue, ociLayoutContext } from "./named-context.js";
import { StepError } from "../../solve/errors.js";

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
  // A named context wins over a stage or image of that name (named-context.ts).
  const context = namedContextValue(inputs.buildContexts, base);
  if (context?.kind === "dir") throw new StepError(fromStep, `FROM ${base}: the build context ${base} is a directory, not an image`);
  if (context?.kind === "oci") return ociBase(cs, base, context.spec, fromStep, platform);
  if (context) return imageBase(cs, context.ref, fromStep, platform);
  const named = stage.baseStage ?? inputs.ir.stages.find((s) => s.index < stage.index && s.name === base.toLowerCase())?.index;
  if (named !== undefined) {
    const parent = await cs.stage(named);
    cs.steps.push({ step: fromStep });
    return { fs: parent.fs, image: parent.image, baseHistory: parent.baseHistory, parent };
  }
  if (base === "scratch") {
    cs.steps.push({ step: fromStep });
    return { fs: undefined, image: scratchState(inputs.platforms.target), baseHistory: 0 };
  }
  return imageBase(cs, base, fromStep, platform);
}

/** FROM a named oci-layout:// context: its manifest's config, read here; its blobs, read by the daemon through the session. */
async function ociBase(cs: ConvertState, name: string, spec: string, fromStep: StepRef, platform: string | undefined): Promise<StageBase> {
  const stagePlatform = platform ? parsePlatform(platform) : cs.inputs.platforms.target;
  let oci: Awaited<ReturnType<typeof ociLayoutContext>>;
  try {
    oci = await ociLayoutContext(cs, name, spec, stagePlatform);
  } catch (e) {
    throw new StepError(fromStep, (e as Error).message, { cause: e });
  }
  cs.steps.push({ step: fromStep, vertex: oci.fs!.vertex });
  return baseState(oci.config, oci.fs, stagePlatform);
}

async function imageBase(cs: ConvertState, base: string, fromStep: StepRef, platform: string | undefined): Promise<StageBase> {
  const { inputs } = cs;
  const stagePlatform = platform ? parsePlatform(platform) : inputs.platforms.target;
  const reference = parseReference(base);
  const config = await inputs.resolveBase(reference.toString(), stagePlatform);
  const fs = ops.source(`docker-image://${reference.toString()}`, {}, { platform: stagePlatform, name: fromStep.label });
  cs.steps.push({ step: fromStep, vertex: fs!.vertex });
  return baseState(config, fs, stagePlatform);
}

function baseState(config: ImageConfig, fs: StageLLB["fs"], stagePlatform: Platform): StageBase {
  const history = config.history ?? [];
  const image: ImageState = {
    config: structuredClone(config),
    layers: [],
    fsKey: "",
    cmdSet: false,
    created: history.at(-1)?.created ?? config.created ?? new Date(0).toISOString(),
  };
  return { fs, image: withPlatform(withDefaultPath(image), stagePlatform), baseHistory: history.length };
}
