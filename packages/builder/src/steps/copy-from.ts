// What `COPY --from=X` and `RUN --mount=from=X` name: an earlier stage (by name or
// index) or else an image reference, as BuildKit decides.
import type { ImageState } from "../image/state.js";
import type { BuildSession } from "../solve/session.js";

export async function resolveCopyFrom(session: BuildSession, from: string, _current: ImageState): Promise<ImageState> {
  const stages = session.ir.stages;
  const lower = from.toLowerCase();
  const byName = stages.find((s) => s.name === lower);
  if (byName) return session.stage(byName.index);
  if (/^\d+$/.test(from)) {
    const i = Number(from);
    if (i < stages.length) return session.stage(i);
    throw new Error(`invalid stage index ${from}: the Dockerfile has ${stages.length} stages`);
  }
  return session.image(from);
}
