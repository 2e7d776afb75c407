// Which stages a build of a target needs, in build order (BuildKit builds the
// reachable stages in file order).

import { instructionError } from "../eval/eval-error.js";
import { suggest } from "../text/suggest.js";
import { findStageByName } from "./stages.js";
import type { DockerfileIR } from "./types.js";

/**
 * The indices of the stages needed to build `target` (a stage name; default:
 * the last stage), in file order. Throws DockerfileSyntaxError for an unknown
 * target and for a COPY --from / RUN --mount from= that names a stage defined
 * later in the file, as BuildKit does when it reaches that instruction.
 * (The error is a DockerfileSyntaxError.)
 */
export function planStages(ir: DockerfileIR, target?: string): number[] {
  let root = ir.stages.length - 1;
  if (target !== undefined && target !== "") {
    const idx = findStageByName(ir.stages, target);
    if (idx === undefined) {
      const names = ir.stages.flatMap((s) => (s.name ? [s.name] : []));
      const s = suggest(target, names);
      const last = ir.stages[ir.stages.length - 1];
      throw instructionError(last, `target stage "${target}" could not be found${s ? ` (did you mean ${s}?)` : ""}`, ir.file);
    }
    root = idx;
  }
  const needed = new Set<number>([root]);
  const queue = [root];
  while (queue.length > 0) {
    const s = ir.stages[queue.pop() as number];
    for (const d of s.dependencies) {
      if (!needed.has(d.stage)) {
        needed.add(d.stage);
        queue.push(d.stage);
      }
    }
  }
  const order = [...needed].sort((a, b) => a - b);
  for (const i of order) {
    const st = ir.stages[i];
    for (const d of st.dependencies) {
      if (d.stage < i) continue;
      const name = ir.stages[d.stage].name ?? String(d.stage);
      const what = d.via === "mount" ? `cannot mount from stage "${name}"` : `cannot copy from stage "${name}"`;
      const at = st.instructions.find((x) => x.line === d.line) ?? st;
      throw instructionError(at, `${what}, it needs to be defined before current stage "${st.name ?? `stage-${i}`}"`, ir.file);
    }
  }
  return order;
}
