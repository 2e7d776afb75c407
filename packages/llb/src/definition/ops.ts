// Constructors for the ops tbuild emits, with the defaults of BuildKit's Go client
// (client/llb: source.go, exec.go, fileop.go, meta.go), so that a graph made here means what
// the same calls would mean in dockerfile2llb.
import { create } from "@bufbuild/protobuf";
import * as pb from "../gen/github.com/moby/buildkit/solver/pb/ops_pb.js";
import { sortedRecord, vertex, type Output, type Vertex } from "./graph.js";

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export function platform(p: PlatformSpec): pb.Platform {
  return create(pb.PlatformSchema, { OS: p.os, Architecture: p.architecture, Variant: p.variant ?? "" });
}

/** A source op (docker-image://, local://, git://, https://) with its attributes. */
export function source(identifier: string, attrs: Record<string, string>, opts: { platform?: PlatformSpec; name?: string } = {}): Output {
  const op = create(pb.SourceOpSchema, { identifier, attrs: sortedRecord(attrs) });
  const v = vertex({ op: { case: "source", value: op }, ...(opts.platform ? { platform: platform(opts.platform) } : {}) }, [], named(opts.name));
  return { vertex: v, index: 0 };
}

function named(name: string | undefined): Pick<Vertex, "description"> {
  return name ? { description: { "llb.customname": name } } : {};
}

export interface ExecMount {
  dest: string;
  /** The filesystem mounted; `undefined` is scratch (input -1). */
  from?: Output;
  selector?: string;
  readonly?: boolean;
  /** The mount's contents after the run are an output of the op (the root mount's are). */
  output?: boolean;
  type?: pb.MountType;
  cache?: { id: string; sharing: pb.CacheSharingOpt };
  secret?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
  tmpfsSize?: number;
}

export interface ExecSpec {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network?: pb.NetMode;
  security?: pb.SecurityMode;
  /** Mounts; the one at "/" is the root filesystem. */
  mounts: ExecMount[];
  platform?: PlatformSpec;
  name?: string;
  ignoreCache?: boolean;
}

/**
 * An exec op. Returns the output of each mount that has one (the root first), in mount
 * order. Mounts are sorted by destination as llb's ExecOp.Marshal sorts them (root first),
 * inputs numbered in the order their states first appear.
 */
export function exec(spec: ExecSpec): Map<string, Output> {
  const mounts = [...spec.mounts].sort((a, b) => (a.dest === "/" ? -1 : b.dest === "/" ? 1 : a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  const inputs: Output[] = [];
  const inputIndex = (o: Output): bigint => {
    if (!o) return -1n;
    const i = inputs.findIndex((x) => x && x.vertex === o.vertex && x.index === o.index);
    if (i >= 0) return BigInt(i);
    inputs.push(o);
    return BigInt(inputs.length - 1);
  };
  let outputs = 0;
  const outs: string[] = [];
  const pbMounts = mounts.map((m) => {
    const type = m.type ?? pb.MountType.BIND;
    const hasOutput = m.output ?? (type === pb.MountType.BIND && !m.readonly);
    if (hasOutput) outs.push(m.dest);
    return create(pb.MountSchema, {
      dest: m.dest,
      input: type === pb.MountType.BIND || m.from ? inputIndex(m.from) : -1n,
      selector: m.selector ?? "",
      output: hasOutput ? BigInt(outputs++) : -1n,
      readonly: m.readonly ?? false,
      mountType: type,
      ...(m.cache ? { cacheOpt: create(pb.CacheOptSchema, { ID: m.cache.id, sharing: m.cache.sharing }) } : {}),
      ...(m.secret ? { secretOpt: create(pb.SecretOptSchema, { ID: m.secret.id, uid: m.secret.uid, gid: m.secret.gid, mode: m.secret.mode, optional: m.secret.optional }) } : {}),
      ...(m.tmpfsSize !== undefined ? { TmpfsOpt: create(pb.TmpfsOptSchema, { size: BigInt(m.tmpfsSize) }) } : {}),
    });
  });
  const op = create(pb.ExecOpSchema, {
    meta: create(pb.MetaSchema, { args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user }),
    mounts: pbMounts,
    network: spec.network ?? pb.NetMode.UNSET,
    security: spec.security ?? pb.SecurityMode.SANDBOX,
  });
  const v = vertex({ op: { case: "exec", value: op }, ...(spec.platform ? { platform: platform(spec.platform) } : {}) }, inputs, {
    ...named(spec.name),
    ...(spec.ignoreCache ? { ignoreCache: true } : {}),
  });
  return new Map(outs.map((dest, index) => [dest, { vertex: v, index }]));
}

/** A user for FileOp owners: numeric parts by id, others by name looked up in `input`'s /etc files. */
export function chown(spec: string | undefined, lookupInput: number): pb.ChownOpt | undefined {
  if (!spec) return undefined;
  const [user, group] = spec.split(":", 2) as [string, string | undefined];
  const opt = (s: string) =>
    create(pb.UserOptSchema, /^\d+$/.test(s) ? { user: { case: "byID", value: Number(s) } } : { user: { case: "byName", value: create(pb.NamedUserOptSchema, { name: s, input: BigInt(lookupInput) }) } });
  return create(pb.ChownOptSchema, { user: opt(user), ...(group !== undefined ? { group: opt(group) } : {}) });
}

/** `owner` is a `user[:group]` spec (names or ids), resolved against the action's input as llb.WithUser does. */
export type FileActionSpec =
  | { kind: "copy"; src: string; dest: string; from: Output; owner?: string; copy: Partial<Omit<pb.FileActionCopy, "$typeName" | "src" | "dest" | "owner">> }
  | { kind: "mkdir"; path: string; mode: number; makeParents: boolean; owner?: string }
  | { kind: "mkfile"; path: string; mode: number; data: Uint8Array; owner?: string };

/**
 * A file op of one chain of actions on `base` (llb's FileAction chaining, client/llb/
 * fileop.go): each action works on the previous one's result, a copy's source is a
 * secondary input, and only the last action has an output. Returns that output.
 */
export function file(base: Output, actions: FileActionSpec[], opts: { platform?: PlatformSpec; name?: string } = {}): Output {
  const inputs: Output[] = [];
  const inputIndex = (o: Output): bigint => {
    if (!o) return -1n;
    const i = inputs.findIndex((x) => x && x.vertex === o.vertex && x.index === o.index);
    if (i >= 0) return BigInt(i);
    inputs.push(o);
    return BigInt(inputs.length - 1);
  };
  const baseIndex = inputIndex(base);
  // Secondary inputs first, so that every input index is known before an action refers to
  // an earlier action's output, which llb numbers after the inputs: (inputs + action index).
  const secondary = actions.map((a) => (a.kind === "copy" ? inputIndex(a.from) : -1n));
  const n = BigInt(inputs.length);
  const op = create(pb.FileOpSchema, {
    actions: actions.map((a, i) => {
      const input = i === 0 ? baseIndex : n + BigInt(i - 1);
      const owner = chown(a.owner, Number(input));
      const action =
        a.kind === "copy"
          ? { case: "copy" as const, value: create(pb.FileActionCopySchema, { src: a.src, dest: a.dest, mode: -1, timestamp: -1n, ...a.copy, ...(owner ? { owner } : {}) }) }
          : a.kind === "mkdir"
            ? { case: "mkdir" as const, value: create(pb.FileActionMkDirSchema, { path: a.path, mode: a.mode, makeParents: a.makeParents, timestamp: -1n, ...(owner ? { owner } : {}) }) }
            : { case: "mkfile" as const, value: create(pb.FileActionMkFileSchema, { path: a.path, mode: a.mode, data: a.data, timestamp: -1n, ...(owner ? { owner } : {}) }) };
      return create(pb.FileActionSchema, { input, secondaryInput: secondary[i]!, output: i === actions.length - 1 ? 0n : -1n, action });
    }),
  });
  const v = vertex({ op: { case: "file", value: op }, ...(opts.platform ? { platform: platform(opts.platform) } : {}) }, inputs, named(opts.name));
  return { vertex: v, index: 0 };
}

export { pb };
