// Named build contexts (`--build-context name=value`) as dockerfile2llb and dockerui resolve
// them (frontend/dockerui/namedcontext.go): a FROM, COPY --from or RUN --mount from= that
// names one uses it before any stage or image of that name (as the local build does,
// solve/named-contexts.ts). `docker-image://ref` is an image source, its config read by
// tbuild like a FROM's; a local directory is one more local source the session serves under
// the context's name (buildx: `--local name=dir` + `context:name=local:name`), with the shared
// key hint "context:<name>-<key>" and the directory's own .dockerignore applied before sending.
// `oci-layout://DIR[:TAG|@DIGEST]` is read here for its manifest and config (for this
// platform) and made an `oci-layout://<store>@<manifest digest>` source (llb.OCILayout with
// attr oci.store, cap source.ocilayout, BuildKit ≥ v0.11) whose blobs the daemon reads from
// the layout through the session's content store (llb session/content-store.ts). No
// oci.session attr: the daemon then asks any session of the build (source/containerimage/
// ocilayout.go, withCaller), and the definition does not change with the session's id.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseIgnoreFile } from "@tbuild/cache";
import { parseReference } from "@tbuild/oci";
import { createHash } from "node:crypto";
import { ops, type Output } from "@tbuild/llb";
import type { ImageConfig, Platform } from "@tbuild/oci";
import { resolveOciLayout, splitLayoutSpec } from "../../image-transfer/import-layout.js";
import { capMessage } from "./caps.js";
import type { ConvertState } from "./types.js";

export type NamedContextValue = { kind: "image"; ref: string } | { kind: "dir"; dir: string } | { kind: "oci"; spec: string };

/** The value of the context named `name` (compared as the local build does: exact, then lower case). */
export function namedContextValue(contexts: Record<string, string> | undefined, name: string): NamedContextValue | undefined {
  const value = contexts?.[name] ?? contexts?.[name.toLowerCase()];
  if (value === undefined) return undefined;
  if (value.startsWith("docker-image://")) return { kind: "image", ref: parseReference(value.slice("docker-image://".length)).toString() };
  if (value.startsWith("oci-layout://")) return { kind: "oci", spec: value.slice("oci-layout://".length) };
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
export async function namedContextOutput(cs: ConvertState, name: string): Promise<Output | undefined> {
  const v = namedContextValue(cs.inputs.buildContexts, name);
  if (!v) return undefined;
  if (v.kind === "image") return ops.source(`docker-image://${v.ref}`, {}, { platform: cs.inputs.platforms.target, name: `[context ${name}] ${v.ref}` });
  if (v.kind === "oci") return (await ociLayoutContext(cs, name, v.spec, cs.inputs.platforms.target)).fs;
  return cs.namedLocal(name);
}

/** The content store id the session serves an oci-layout:// context's directory under (a valid reference name). */
export function ociStoreId(name: string): string {
  return `tbuild-context-${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
}

/** The session's content stores of the oci-layout:// contexts: store id ("oci:<oci.store>") → layout directory (read-only). */
export function ociLayoutStores(contexts: Record<string, string> | undefined): Map<string, { dir: string }> {
  const stores = new Map<string, { dir: string }>();
  for (const [name, value] of Object.entries(contexts ?? {})) {
    // The daemon asks for the store "oci:" + the op's oci.store (source/containerimage/ocilayout.go).
    if (value.startsWith("oci-layout://")) stores.set(`oci:${ociStoreId(name)}`, { dir: path.resolve(splitLayoutSpec(value.slice("oci-layout://".length)).dir) });
  }
  return stores;
}

/**
 * An oci-layout:// context as a source op and the image config of its manifest for
 * `platform`. Refused, naming the capability, on a daemon without source.ocilayout (BuildKit
 * before v0.11, Docker 20.10's 0.8).
 */
export async function ociLayoutContext(cs: ConvertState, name: string, spec: string, platform: Platform): Promise<{ fs: Output; config: ImageConfig }> {
  if (!(await cs.inputs.llbCaps()).has(ops.caps.sourceOciLayout)) throw new Error(capMessage(`--build-context ${name}=oci-layout://${spec}`, ops.caps.sourceOciLayout, cs.inputs.builder));
  const { manifest } = await resolveOciLayout(path.resolve(spec), platform);
  const store = ociStoreId(name);
  const fs = ops.source(`oci-layout://docker.io/library/${store}@${manifest.descriptor.digest}`, { "oci.store": store }, { platform, name: `[context ${name}] OCI load from client`, caps: [ops.caps.sourceOciLayout] });
  return { fs, config: manifest.config };
}
