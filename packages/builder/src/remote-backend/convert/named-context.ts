// Named build contexts (`--build-context name=value`) as dockerfile2llb and dockerui resolve
// them (frontend/dockerui/namedcontext.go): a FROM, COPY --from or RUN --mount from= that
// names one uses it before any stage or image of that name (as the local build does,
// solve/named-contexts.ts). `docker-image://ref` is an image source, its config read by
// tbuild like a FROM's; a local directory is one more local source the session serves under
// the context's name (buildx: `--local name=dir` + `context:name=local:name`), with the shared
// key hint "context:<name>-<key>" and the directory's own .dockerignore applied before sending.
// `oci-layout://` needs the session's content store (llb.OCILayout, cap source.ocilayout,
// BuildKit ≥ v0.11), which tbuild's session does not serve: refused with that reason.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseIgnoreFile } from "@tbuild/cache";
import { parseReference } from "@tbuild/oci";
import { ops, type Output } from "@tbuild/llb";
import type { ConvertState } from "./types.js";

export type NamedContextValue = { kind: "image"; ref: string } | { kind: "dir"; dir: string };

/** The value of the context named `name` (compared as the local build does: exact, then lower case). */
export function namedContextValue(contexts: Record<string, string> | undefined, name: string): NamedContextValue | undefined {
  const value = contexts?.[name] ?? contexts?.[name.toLowerCase()];
  if (value === undefined) return undefined;
  if (value.startsWith("docker-image://")) return { kind: "image", ref: parseReference(value.slice("docker-image://".length)).toString() };
  if (value.startsWith("oci-layout://")) {
    throw new Error(`build context ${name}=${value}: oci-layout:// contexts are not supported with --builder: BuildKit reads them from the client's content store through the session (llb.OCILayout, capability source.ocilayout, BuildKit v0.11 or newer), which tbuild's session does not serve; build without --builder, or push the image and use docker-image://`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error(`build context ${name}=${value}: unsupported source (use oci-layout://, docker-image:// or a local directory)`);
  return { kind: "dir", dir: path.resolve(value) };
}

/** The session directories of the local named contexts, by name, with each directory's .dockerignore. */
export async function namedContextDirs(contexts: Record<string, string> | undefined): Promise<Map<string, { dir: string; excludes: string[] }>> {
  const dirs = new Map<string, { dir: string; excludes: string[] }>();
  for (const [name, value] of Object.entries(contexts ?? {})) {
    // Only directories; a bad value is reported by the step that uses it, as locally.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) continue;
    const v = { dir: path.resolve(value) };
    // dockerui reads only <dir>/.dockerignore (DefaultDockerignoreName); a missing one excludes nothing.
    const text = await readFile(path.join(v.dir, ".dockerignore"), "utf8").catch(() => "");
    dirs.set(sessionDirName(name), { dir: v.dir, excludes: parseIgnoreFile(text) });
  }
  return dirs;
}

/** The name the session serves a named context's directory under (never the build context's own). */
export function sessionDirName(name: string): string {
  return name === "context" || name === "dockerfile" ? `context:${name}` : name;
}

/** The filesystem of a named context for COPY --from / RUN --mount from=, or undefined when none has that name. */
export function namedContextOutput(cs: ConvertState, name: string): Output | undefined {
  const v = namedContextValue(cs.inputs.buildContexts, name);
  if (!v) return undefined;
  if (v.kind === "image") return ops.source(`docker-image://${v.ref}`, {}, { platform: cs.inputs.platforms.target, name: `[context ${name}] ${v.ref}` });
  return cs.namedLocal(name);
}
