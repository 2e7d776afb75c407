// WORKDIR as dockerfile2llb's dispatchWorkdir makes it: the path resolved against the
// current WORKDIR; unless it is "/", a FileOp mkdir with parents, mode 0755, owned by the
// config's USER (llb.WithUser), and a history entry with a layer; "/" changes only the config.
import path from "node:path";
import { ops } from "@tbuild/llb";
import { cloneState, withHistory } from "../../image-state/state.js";
import type { InstructionContext } from "./types.js";
import type { StageLLB } from "./types.js";

export function convertWorkdir(ctx: InstructionContext, st: StageLLB, dir: string): StageLLB {
  const { cs, step } = ctx;
  const wd = path.posix.resolve(st.image.config.config?.WorkingDir || "/", dir);
  const image = cloneState(st.image);
  (image.config.config ??= {}).WorkingDir = wd;
  if (wd === "/") {
    cs.steps.push({ step });
    return { ...st, image: withHistory(image, `WORKDIR ${wd}`, true) };
  }
  const user = st.image.config.config?.User || undefined;
  const fs = ops.file(st.fs, [{ kind: "mkdir", path: wd, mode: 0o755, makeParents: true, ...(user ? { owner: user } : {}) }], {
    name: step.label,
    platform: st.image.platform ?? cs.inputs.platforms.target,
  });
  cs.steps.push({ step, vertex: fs!.vertex });
  return { ...st, fs, image: withHistory(image, `WORKDIR ${wd}`, false) };
}
