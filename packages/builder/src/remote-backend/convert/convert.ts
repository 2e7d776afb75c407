// The IR of the stages a target needs → one LLB graph ending at the target's filesystem,
// plus the target's image config and the steps with the vertices that do their work.
// Stages are converted once each, on first use (a stage several others build on is one
// subgraph), as dockerfile2llb's allDispatchStates.
import { ops, type Output } from "@tbuild/llb";
import type { ImageConfig } from "@tbuild/oci";
import { convertStage } from "./stage.js";
import { sessionDirName } from "./named-context.js";
import type { ConvertInputs, ConvertState, StageLLB, StepVertex } from "./types.js";

export interface Converted {
  root: Output;
  /** The image config for the exporter (`containerimage.config`). */
  config: ImageConfig;
  steps: StepVertex[];
}

export async function convertTarget(inputs: ConvertInputs, target: number): Promise<Converted> {
  const stages = new Map<number, Promise<StageLLB>>();
  let context: Output;
  const named = new Map<string, Output>();
  const cs: ConvertState = {
    inputs,
    steps: [],
    // dockerfile2llb's build context: llb.Local("context", SharedKeyHint("context")); the
    // session applies .dockerignore before sending (session/file-sync.ts).
    context: () => (context ??= ops.source("local://context", { "local.sharedkeyhint": "context" }, { name: "[internal] load build context" })),
    // dockerui's asyncLocalOutput: llb.Local(name, SharedKeyHint("context:<name>-<sharedkey:localdir>"), a name of its own).
    namedLocal(name) {
      let o = named.get(name);
      if (!o) named.set(name, (o = ops.source(`local://${sessionDirName(name)}`, { "local.sharedkeyhint": `context:${name}-` }, { name: `[context ${name}] load from client` })));
      return o;
    },
    stage(i) {
      let p = stages.get(i);
      if (!p) stages.set(i, (p = convertStage(cs, inputs.ir.stages[i]!)));
      return p;
    },
  };
  const st = await cs.stage(target);
  return { root: st.fs, config: exporterConfig(st), steps: cs.steps };
}

/**
 * The config as dockerfile2llb hands it to the exporter: no `created`, and no `created` on
 * the history entries this build added, so that the exporter dates them by the layers it
 * makes (exporter/containerimage: normalizeLayersAndHistory); rootfs is the exporter's too.
 */
function exporterConfig(st: StageLLB): ImageConfig {
  const c = structuredClone(st.image.config);
  delete c.created;
  c.history = (c.history ?? []).map((h, i) => {
    if (i < st.baseHistory) return h;
    const { created: _, ...rest } = h;
    return rest;
  });
  c.rootfs = { type: "layers", diff_ids: [] };
  return c;
}
