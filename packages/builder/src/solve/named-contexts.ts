// Named build contexts (BuildKit's `--build-context name=value`): a FROM or COPY --from
// that names one uses it instead of the image or stage of that name.
import path from "node:path";
import { hashContext, type ContextIndex } from "@tbuild/cache";
import type { ImageState } from "../image-state/state.js";
import type { BuildSession } from "./session.js";

export type NamedSource = { kind: "state"; state: ImageState } | { kind: "dir"; index: ContextIndex };

/** The named context `name` resolves to, or undefined when none has that name. */
export async function namedContext(session: BuildSession, name: string): Promise<NamedSource | undefined> {
  const contexts = session.opts.buildContexts ?? {};
  const value = contexts[name] ?? contexts[name.toLowerCase()];
  if (value === undefined) return undefined;
  if (value.startsWith("oci-layout://")) return { kind: "state", state: await session.image(value) };
  if (value.startsWith("docker-image://")) return { kind: "state", state: await session.image(value.slice("docker-image://".length)) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new Error(`build context ${name}=${value}: unsupported source (use oci-layout://, docker-image:// or a local directory)`);
  }
  const dir = path.resolve(value);
  return { kind: "dir", index: await session.namedDir(dir, () => hashContext(dir, { statCache: session.store.contextStatCachePath(dir) })) };
}
