// `--cache-from` / `--cache-to`, in docker buildx's syntax:
//   --cache-from REF                                  (an image or cache in a registry)
//   --cache-from type=registry,ref=REF[,registry.insecure=true]
//   --cache-from type=local,src=DIR[,tag=T]
//   --cache-to type=registry,ref=REF[,mode=min|max][,compression=gzip|zstd]
//              [,oci-mediatypes=true|false][,ignore-error=true][,registry.insecure=true]
//   --cache-to type=local,dest=DIR[,tag=T][,mode=…][,compression=…][,oci-mediatypes=…][,ignore-error=…]
//   --cache-to type=inline[,ignore-error=true]
// BuildKit's other backends (gha, s3, azblob) need services this machine does not reach.

import type { CacheExportSpec, CacheImportSpec } from "../builder-api.js";
import { UsageError } from "../errors.js";
import { parseKeyValueCsv } from "./csv.js";

const importKeys: Record<string, readonly string[]> = {
  registry: ["type", "ref", "registry.insecure"],
  local: ["type", "src", "tag", "digest"],
};
const exportCommon = ["mode", "compression", "oci-mediatypes", "ignore-error", "compression-level", "force-compression", "image-manifest"];
const exportKeys: Record<string, readonly string[]> = {
  registry: ["type", "ref", "registry.insecure", ...exportCommon],
  local: ["type", "dest", "tag", ...exportCommon],
  inline: ["type", "mode", "ignore-error"],
};

function fieldsOf(text: string, flag: string, allowed: Record<string, readonly string[]>): { type: string; fields: Map<string, string> } {
  const fields = new Map<string, string>();
  for (const [k, v] of parseKeyValueCsv(text, flag)) {
    if (fields.has(k)) throw new UsageError(`${flag}: key ${JSON.stringify(k)} given twice in ${JSON.stringify(text)}`);
    fields.set(k, v);
  }
  const type = fields.get("type") ?? "registry";
  const keys = allowed[type];
  if (!keys) throw new UsageError(`${flag}: cache type ${JSON.stringify(type)} is not supported (use ${Object.keys(allowed).join(", ")})`);
  for (const k of fields.keys()) {
    if (!keys.includes(k)) throw new UsageError(`${flag} type=${type}: unknown key ${JSON.stringify(k)} (allowed: ${keys.filter((a) => a !== "type").join(", ")})`);
  }
  return { type, fields };
}

function required(fields: Map<string, string>, key: string, flag: string, type: string): string {
  const v = fields.get(key);
  if (v === undefined || v.trim() === "") throw new UsageError(`${flag} type=${type}: missing ${key}=`);
  return v.trim();
}

/** One `--cache-from` value. */
export function parseCacheImport(text: string): CacheImportSpec {
  const spec = text.trim();
  if (spec === "") throw new UsageError("--cache-from: empty value");
  if (!spec.includes("=")) return { type: "registry", ref: spec };
  const { type, fields } = fieldsOf(spec, "--cache-from", importKeys);
  if (type === "local") {
    if (fields.has("digest")) throw new UsageError("--cache-from type=local: digest= is not supported; name the cache by tag=");
    const tag = fields.get("tag");
    return { type: "local", src: required(fields, "src", "--cache-from", type), ...(tag ? { tag } : {}) };
  }
  const insecure = parseBool(fields.get("registry.insecure"), "registry.insecure", "--cache-from");
  return { type: "registry", ref: required(fields, "ref", "--cache-from", type), ...(insecure ? { insecure } : {}) };
}

/** One `--cache-to` value. */
export function parseCacheExport(text: string): CacheExportSpec {
  const spec = text.trim();
  if (spec === "") throw new UsageError("--cache-to: empty value");
  if (!spec.includes("=")) throw new UsageError(`--cache-to: ${JSON.stringify(spec)} needs type= (e.g. type=registry,ref=${spec})`);
  const { type, fields } = fieldsOf(spec, "--cache-to", exportKeys);
  const flag = "--cache-to";
  const ignoreError = parseBool(fields.get("ignore-error"), "ignore-error", flag);
  if (type === "inline") {
    const mode = fields.get("mode");
    if (mode !== undefined && mode !== "min") throw new UsageError("--cache-to type=inline: only mode=min is supported (inline cache holds the final image's steps)");
    return { type: "inline", ...(ignoreError ? { ignoreError } : {}) };
  }
  if (fields.has("image-manifest") && parseBool(fields.get("image-manifest"), "image-manifest", flag)) {
    throw new UsageError("--cache-to: image-manifest=true is not supported; tbuild writes the cache as an image index");
  }
  const mode = fields.get("mode");
  if (mode !== undefined && mode !== "min" && mode !== "max") throw new UsageError(`--cache-to: mode=${mode} is not min or max`);
  const compression = fields.get("compression");
  if (compression !== undefined && compression !== "gzip" && compression !== "zstd") throw new UsageError(`--cache-to: compression=${compression} is not supported (use gzip or zstd)`);
  const oci = fields.has("oci-mediatypes") ? parseBool(fields.get("oci-mediatypes"), "oci-mediatypes", flag) : undefined;
  const common = {
    ...(mode ? { mode: mode as "min" | "max" } : {}),
    ...(compression ? { compression: compression as "gzip" | "zstd" } : {}),
    ...(oci !== undefined ? { ociMediatypes: oci } : {}),
    ...(ignoreError ? { ignoreError } : {}),
  };
  if (type === "local") {
    const tag = fields.get("tag");
    return { type: "local", dest: required(fields, "dest", flag, type), ...(tag ? { tag } : {}), ...common };
  }
  const insecure = parseBool(fields.get("registry.insecure"), "registry.insecure", flag);
  return { type: "registry", ref: required(fields, "ref", flag, type), ...(insecure ? { insecure } : {}), ...common };
}

function parseBool(v: string | undefined, key: string, flag: string): boolean {
  if (v === undefined) return false;
  switch (v.toLowerCase()) {
    case "true": case "1": return true;
    case "false": case "0": return false;
  }
  throw new UsageError(`${flag}: ${key}=${v} is not a boolean (use true or false)`);
}
