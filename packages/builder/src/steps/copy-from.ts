// What `COPY --from=X` and `RUN --mount=from=X` name: a named build context, an earlier
// stage (by name or index), or else an image reference — in that order, as BuildKit decides.
import type { BuildSession } from "../solve/session.js";
import { namedContext, type NamedSource } from "../solve/named-contexts.js";

export async function resolveCopyFrom(session: BuildSession, from: string): Promise<NamedSource> {
  const named = await namedContext(session, from);
  if (named) return named;
  const stages = session.ir.stages;
  const byName = stages.find((s) => s.name === from.toLowerCase());
  if (byName) return { kind: "state", state: await session.stage(byName.index) };
  if (/^\d+$/.test(from)) {
    const i = Number(from);
    if (i < stages.length) return { kind: "state", state: await session.stage(i) };
    throw new Error(`invalid stage index ${from}: the Dockerfile has ${stages.length} stages`);
  }
  return { kind: "state", state: await session.image(from) };
}
