// `--output` / `-o`: where the built image goes, in docker buildx's syntax.
//   type=oci,dest=FILE[,compression=gzip|zstd|uncompressed][,tar=false]
//   type=docker,dest=FILE       type=local,dest=DIR      type=tar,dest=FILE
//   type=registry,name=REF[,registry.insecure=true]
//   type=image,name=REF,push=true   (buildx's long form of type=registry)
//   DIR                          (no `=`: shorthand for type=local,dest=DIR)

import type { OutputSpec } from "../builder-api.js";
import { UsageError } from "../errors.js";
import { parseKeyValueCsv } from "./csv.js";

const allowedKeys: Record<string, readonly string[]> = {
  oci: ["type", "dest", "compression", "tar"],
  docker: ["type", "dest"],
  local: ["type", "dest"],
  tar: ["type", "dest"],
  registry: ["type", "name", "registry.insecure", "push"],
  image: ["type", "name", "registry.insecure", "push"],
};

/** Parses one `--output` value into one or more OutputSpecs (a registry output may name several refs). */
export function parseOutputSpec(text: string): OutputSpec[] {
  const spec = text.trim();
  if (spec === "") throw new UsageError("--output: empty value");
  if (spec === "-") {
    throw new UsageError("--output: writing to stdout is not supported; give type=tar,dest=FILE or a directory");
  }
  if (!spec.includes("=")) return [{ type: "local", dest: spec }];

  const fields = new Map<string, string>();
  for (const [k, v] of parseKeyValueCsv(spec, "--output")) {
    if (fields.has(k)) throw new UsageError(`--output: key ${JSON.stringify(k)} given twice in ${JSON.stringify(text)}`);
    fields.set(k, v);
  }
  const type = fields.get("type");
  if (type === undefined) throw new UsageError(`--output: missing type= in ${JSON.stringify(text)}`);
  const allowed = allowedKeys[type];
  if (!allowed) {
    throw new UsageError(`--output: unknown type ${JSON.stringify(type)} (use oci, docker, local, tar or registry)`);
  }
  for (const k of fields.keys()) {
    if (!allowed.includes(k)) {
      throw new UsageError(`--output type=${type}: unknown key ${JSON.stringify(k)} (allowed: ${allowed.filter((a) => a !== "type").join(", ")})`);
    }
  }

  switch (type) {
    case "oci": {
      const dest = requireDest(fields, type);
      const tar = parseBool(fields.get("tar") ?? "true", "tar");
      if (!tar) {
        if (fields.has("compression")) throw new UsageError("--output type=oci,tar=false: compression applies to archives only");
        return [{ type: "oci-layout", dest }];
      }
      const compression = parseCompression(fields.get("compression"));
      return [compression === undefined ? { type: "oci", dest } : { type: "oci", dest, compression }];
    }
    case "docker":
    case "local":
    case "tar":
      return [{ type, dest: requireDest(fields, type) }];
    case "registry":
    case "image": {
      if (type === "image" && !parseBool(fields.get("push") ?? "false", "push")) {
        throw new UsageError("--output type=image needs push=true (without it the image goes to the local store; drop --output)");
      }
      const names = (fields.get("name") ?? "").split(",").map((n) => n.trim()).filter((n) => n !== "");
      if (names.length === 0) throw new UsageError(`--output type=${type}: missing name=REF`);
      const insecure = parseBool(fields.get("registry.insecure") ?? "false", "registry.insecure");
      return names.map((name) => (insecure ? { type: "registry", name, insecure } : { type: "registry", name }));
    }
  }
  throw new UsageError(`--output: unknown type ${JSON.stringify(type)}`);
}

function requireDest(fields: Map<string, string>, type: string): string {
  const dest = fields.get("dest");
  if (dest === undefined || dest === "") throw new UsageError(`--output type=${type}: missing dest=`);
  if (dest === "-") throw new UsageError(`--output type=${type}: writing to stdout is not supported; give dest=FILE`);
  return dest;
}

function parseCompression(v: string | undefined): "gzip" | "zstd" | "none" | undefined {
  if (v === undefined) return undefined;
  switch (v.toLowerCase()) {
    case "gzip": return "gzip";
    case "zstd": return "zstd";
    case "uncompressed":
    case "none": return "none";
  }
  throw new UsageError(`--output: unknown compression ${JSON.stringify(v)} (use gzip, zstd or uncompressed)`);
}

function parseBool(v: string, key: string): boolean {
  switch (v.toLowerCase()) {
    case "true": case "1": case "yes": return true;
    case "false": case "0": case "no": return false;
  }
  throw new UsageError(`--output: ${key}=${v} is not a boolean (use true or false)`);
}
