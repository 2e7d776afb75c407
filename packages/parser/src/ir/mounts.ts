// RUN --mount and --device values: CSV fields parsed into typed options with
// BuildKit's keys, defaults and checks (frontend/dockerfile/instructions).

import { withSuggestion } from "../text/suggest.js";
import { InstructionError } from "./instruction-error.js";
import type { CacheSharing, DeviceRequest, MountSpec } from "./types.js";

/** Splits one CSV record (encoding/csv rules: `"…"` quoting with `""` for a quote). */
export function parseCsvFields(val: string, what: "mounts" | "devices"): string[] {
  const near = what === "mounts" ? "--mount" : "--device";
  const fields: string[] = [];
  let i = 0;
  const n = val.length;
  for (;;) {
    if (i < n && val[i] === '"') {
      let f = "";
      i++;
      for (;;) {
        const q = val.indexOf('"', i);
        if (q < 0) throw new InstructionError(`failed to parse csv ${what}: extraneous or missing " in quoted-field`, near);
        f += val.slice(i, q);
        i = q + 1;
        if (val[i] === '"') {
          f += '"';
          i++;
          continue;
        }
        break;
      }
      if (i < n && val[i] !== ",") throw new InstructionError(`failed to parse csv ${what}: extraneous or missing " in quoted-field`, near);
      fields.push(f);
    } else {
      let c = val.indexOf(",", i);
      if (c < 0) c = n;
      const f = val.slice(i, c);
      if (f.includes('"')) throw new InstructionError(`failed to parse csv ${what}: bare " in non-quoted-field`, near);
      fields.push(f);
      i = c;
    }
    if (i >= n) return fields;
    i++; // the comma
  }
}

const MOUNT_TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"] as const;
const SHARING = ["shared", "private", "locked"] as const;
const MOUNT_KEYS = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid", "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env"];

/** Go strconv.ParseBool. */
export function parseGoBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

function parseUint(v: string, base: 8 | 10): number | undefined {
  const re = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!re.test(v)) return undefined;
  const n = parseInt(v, base);
  return n <= 0xffffffff ? n : undefined;
}

/** docker/go-units RAMInBytes: "64m", "1.5g", "512", "2GiB" → bytes (binary multiples). */
export function parseRamSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return undefined;
  const mul = m[2] ? 1024 ** ("kmgtp".indexOf(m[2].toLowerCase()) + 1) : 1;
  return Math.trunc(Number(m[1]) * mul);
}

function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 0x2f) end--;
  if (end === 0) return p === "" ? "." : "/";
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

/**
 * Parses one --mount value. With `expand`, every option value is expanded
 * first and the result is complete and validated. Without it (IR time), a
 * value that references variables is parsed as far as possible and marked
 * `hasVariables`; its checks wait for StageEvaluator.step.
 */
export function parseMount(raw: string, expand?: (word: string) => string): MountSpec {
  const deferred = expand === undefined && raw.includes("$");
  let type: (typeof MOUNT_TYPES)[number] = "bind";
  let from: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readonly: boolean | undefined;
  let size: number | undefined;
  let id: string | undefined;
  let sharing: CacheSharing | undefined;
  let required = false;
  let env: string | undefined;
  let mode: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  const bad = (key: string, value: string) => new InstructionError(`invalid value for ${key}: ${value}`, "--mount");
  for (const field of parseCsvFields(raw, "mounts")) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro") readonly = true;
      else if (key === "readwrite" || key === "rw") readonly = false;
      else if (key === "required" && (type === "secret" || type === "ssh")) required = true;
      else if (key === "required") throw new InstructionError(`unexpected key '${key}' for mount type '${type}'`, "--mount");
      else if (!deferred || !field.includes("$")) {
        throw new InstructionError(`invalid field '${field}' must be a key=value pair`, "--mount");
      }
      continue;
    }
    let value = field.slice(eq + 1);
    if (key === "from" && expand === undefined) {
      const d = value.indexOf("$");
      if (d >= 0 && d !== value.length - 1) {
        throw new InstructionError(`'${key}' doesn't support variable expansion, define alias stage instead`, "--mount");
      }
    }
    if (expand) value = expand(value);
    else if (deferred && value.includes("$")) {
      // Keep unexpanded strings; typed options are checked after expansion.
      if (key === "source" || key === "src") source = value;
      else if (key === "target" || key === "dst" || key === "destination") target = value;
      else if (key === "id") id = value;
      else if (key === "env") env = value;
      else if (key === "from") from = value;
      else if (!MOUNT_KEYS.includes(key)) throw new InstructionError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS), "--mount");
      continue;
    }
    switch (key) {
      case "type": {
        const t = value.toLowerCase() as (typeof MOUNT_TYPES)[number];
        if (!MOUNT_TYPES.includes(t)) {
          throw new InstructionError(withSuggestion(`unsupported mount type "${value}"`, value, MOUNT_TYPES), "--mount");
        }
        type = t;
        break;
      }
      case "from":
        from = value;
        break;
      case "source":
      case "src":
        source = value;
        break;
      case "target":
      case "dst":
      case "destination":
        target = value;
        break;
      case "readonly":
      case "ro":
      case "readwrite":
      case "rw": {
        const b = parseGoBool(value);
        if (b === undefined) throw bad(key, value);
        readonly = key === "readonly" || key === "ro" ? b : !b;
        break;
      }
      case "required": {
        if (type !== "secret" && type !== "ssh") throw new InstructionError(`unexpected key '${key}' for mount type '${type}'`, "--mount");
        const b = parseGoBool(value);
        if (b === undefined) throw bad(key, value);
        required = b;
        break;
      }
      case "size":
        if (type !== "tmpfs") throw new InstructionError(`unexpected key '${key}' for mount type '${type}'`, "--mount");
        size = parseRamSize(value);
        if (size === undefined) throw bad(key, value);
        break;
      case "id":
        id = value;
        break;
      case "sharing": {
        const s = value.toLowerCase() as CacheSharing;
        if (!SHARING.includes(s)) throw new InstructionError(withSuggestion(`unsupported sharing value "${value}"`, value, SHARING), "--mount");
        sharing = s;
        break;
      }
      case "mode":
        mode = parseUint(value, 8);
        if (mode === undefined) throw new InstructionError(`invalid value ${value} for mode`, "--mount");
        break;
      case "uid":
      case "gid": {
        const n = parseUint(value, 10);
        if (n === undefined) throw new InstructionError(`invalid value ${value} for ${key}`, "--mount");
        if (key === "uid") uid = n;
        else gid = n;
        break;
      }
      case "env":
        env = value;
        break;
      default:
        throw new InstructionError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS), "--mount");
    }
  }
  if (!deferred) validateMount(type, { from, source, target, id, sharing, mode, uid, gid });
  const ro = readonly ?? !(type === "cache" || type === "tmpfs");
  // Optional fields are set only when present (no `undefined` keys), one assignment at a time.
  const out: Record<string, unknown> = { type, raw, hasVariables: deferred };
  const opt = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  switch (type) {
    case "bind":
      out.target = target ?? "";
      opt("source", source);
      opt("from", from);
      out.readonly = ro;
      break;
    case "cache":
      out.target = target ?? "";
      opt("id", id);
      out.sharing = sharing ?? "shared";
      opt("from", from);
      opt("source", source);
      out.readonly = ro;
      break;
    case "tmpfs":
      out.target = target ?? "";
      opt("size", size);
      break;
    case "secret": {
      // BuildKit: the secret id is `source`, else `id`, else the target's base name.
      const sid = source ?? id ?? (target ? basename(target) : undefined);
      opt("id", sid);
      opt("target", target ?? (env === undefined && sid !== undefined ? "/run/secrets/" + basename(sid) : undefined));
      opt("env", env);
      out.required = required;
      break;
    }
    case "ssh":
      out.id = id ?? "default";
      opt("target", target);
      out.required = required;
      break;
  }
  if (type === "cache" || type === "secret" || type === "ssh") {
    opt("mode", mode);
    opt("uid", uid);
    opt("gid", gid);
  }
  return out as unknown as MountSpec;
}

function validateMount(
  type: string,
  m: { from?: string; source?: string; target?: string; id?: string; sharing?: string; mode?: number; uid?: number; gid?: number },
): void {
  const fail = (msg: string): never => {
    throw new InstructionError(msg, "--mount");
  };
  if (type !== "secret" && type !== "ssh" && type !== "cache") {
    if (m.mode !== undefined) fail(`mode not allowed for "${type}" type mounts`);
    if (m.uid !== undefined) fail(`uid not allowed for "${type}" type mounts`);
    if (m.gid !== undefined) fail(`gid not allowed for "${type}" type mounts`);
  }
  if (type === "secret") {
    if (m.from) fail("secret mount should not have a from");
    if (m.sharing) fail("secret mount should not define sharing");
    if (!m.source && !m.target && !m.id) fail("invalid secret mount. one of source, target required");
    if (m.source && m.id) fail("both source and id can't be set");
  }
  if (type === "ssh" && m.source) fail("ssh does not support source");
  if (m.sharing && type !== "cache") fail(`invalid cache sharing set for ${type} mount`);
}

/** Parses one --device value (`name[,required]`, `name=…`, `required=bool`). */
export function parseDevice(raw: string): DeviceRequest {
  let name = "";
  let required = false;
  for (const field of parseCsvFields(raw, "devices")) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = field.slice(eq + 1);
    if (eq < 0) {
      if (key === "required") required = true;
      else if (name === "") name = field;
      else throw new InstructionError(`invalid field '${field}' must be a key=value pair`, "--device");
    } else if (key === "name") {
      if (name !== "") throw new InstructionError(`device name already set to ${name}`, "--device");
      name = value;
    } else if (key === "required") {
      const b = parseGoBool(value);
      if (b === undefined) throw new InstructionError(`invalid value for ${key}: ${value}`, "--device");
      required = b;
    } else if (name === "") name = field;
    else throw new InstructionError(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ["name", "required"]), "--device");
  }
  return { name, required };
}
