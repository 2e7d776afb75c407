// WORKDIR: sets the working directory and creates it (owned by the stage's USER) in a
// layer of its own, as BuildKit does — even when the directory already exists.
import path from "node:path";
import type { StepRef } from "../api-types.js";
import { LayeredView } from "../fs/index.js";
import { mkdirInLayer, resolveChown } from "../fileops/index.js";
import { cloneState, type ImageState } from "../image-state/state.js";
import { layerStep } from "../solve/layer-step.js";
import type { BuildSession } from "../solve/session.js";

export async function workdirStep(
  ctx: { session: BuildSession; step: StepRef; noCache: boolean },
  state: ImageState,
  dir: string,
): Promise<ImageState> {
  const { session } = ctx;
  const workdir = path.posix.resolve(state.config.config?.WorkingDir || "/", dir);
  const withDir = cloneState(state);
  (withDir.config.config ??= {}).WorkingDir = workdir;
  const user = state.config.config?.User ?? "";
  const inputs = { v: 1, op: "workdir", parent: state.fsKey, path: workdir, user, sde: session.sourceDateEpoch ?? null };
  return layerStep(session, ctx.step, withDir, { inputs, createdBy: `WORKDIR ${workdir}`, noCache: ctx.noCache }, async (draft) => {
    const view = new LayeredView(await session.layerDirs(state));
    const owner = user ? await resolveChown(view, user, { lenient: true }) : undefined;
    await mkdirInLayer({ view, layerDir: draft.path }, workdir, owner, { createdTime: session.sourceDateEpoch });
  });
}
