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
export function source(identifier: string, attrs: Record<string, string>, opts: { platform?: PlatformSpec; name?: string; caps?: string[] } = {}): Output {
  const op = create(pb.SourceOpSchema, { identifier, attrs: sortedRecord(attrs) });
  const v = vertex({ op: { case: "source", value: op }, ...(opts.platform ? { platform: platform(opts.platform) } : {}) }, [], { ...named(opts.name), ...(opts.caps?.length ? { caps: opts.caps } : {}) });
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
  /** An SSH agent socket forwarded from the client's session (MountType.SSH). */
  ssh?: { id: string; uid: number; gid: number; mode: number; optional: boolean };
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
  /** Secrets as environment variables (pb.SecretEnv; cap exec.secretenv). */
  secretEnv?: { id: string; name: string; optional: boolean }[];
  /** Resource limits of the process (pb.Meta.ulimit; cap exec.meta.ulimit). */
  ulimits?: { name: string; soft: number; hard: number }[];
}

/**
 * LLB capabilities (solver/pb/caps.go) of what BuildKit 0.8 cannot read. All but
 * execValidExitCode are set on the ops that use them. A copy's modeStr has no capability a
 * daemon reports: caps.go declares "file.copy.modestring" but never registers it (no
 * Caps.Init, v0.17 to v0.32), so no Ping lists it and llbsolver's WithValidateCaps refuses an
 * op carrying it ("unknown API capability"; llb never sends it: fileop.go's addCaps loop runs
 * over an empty marshal state). exec.validexitcode came with the same release (v0.17.0) as the
 * file backend's modeStr (solver/llbsolver/file/backend.go), so a daemon reporting it reads
 * modeStr; it is asked for, never set on an op.
 */
export const caps = {
  copyPatterns: "file.copy.includeexcludepatterns",
  copyRequiredPaths: "file.copy.requiredpaths",
  execUlimit: "exec.meta.ulimit",
  execSecretEnv: "exec.secretenv",
  mountSSH: "exec.mount.ssh",
  tmpfsSize: "exec.mount.tmpfs.size",
  execValidExitCode: "exec.validexitcode",
  sourceOciLayout: "source.ocilayout",
} as const;

/**
 * An exec op. Returns the output of each mount that has one (the root first), in mount
 * order. Mounts are sorted by destination as llb's ExecOp.Marshal sorts them (root first),
 * then come the secret mounts and the SSH sockets in the order given (llb keeps those in
 * their own lists), inputs numbered in the order their states first appear.
 */
export function exec(spec: ExecSpec): Map<string, Output> {
  const late = (m: ExecMount) => m.type === pb.MountType.SECRET || m.type === pb.MountType.SSH;
  const sorted = spec.mounts.filter((m) => !late(m)).sort((a, b) => (a.dest === "/" ? -1 : b.dest === "/" ? 1 : a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  const mounts = [...sorted, ...spec.mounts.filter((m) => m.type === pb.MountType.SECRET), ...spec.mounts.filter((m) => m.type === pb.MountType.SSH)];
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
      ...(m.ssh ? { SSHOpt: create(pb.SSHOptSchema, { ID: m.ssh.id, uid: m.ssh.uid, gid: m.ssh.gid, mode: m.ssh.mode, optional: m.ssh.optional }) } : {}),
    });
  });
  const ulimits = (spec.ulimits ?? []).map((u) => create(pb.UlimitSchema, { Name: u.name, Soft: BigInt(u.soft), Hard: BigInt(u.hard) }));
  const op = create(pb.ExecOpSchema, {
    // removeMountStubsRecursive: llb's ExecOp.Marshal always sets it (client/llb/exec.go), so
    // the daemon also removes the empty parent directories it made for a mount point
    // (executor/stubs.go, MountStubsCleaner): /run and /run/secrets of a secret mount do not
    // stay in the layer. A daemon before v0.11 does not know the field and removes the stub only.
    meta: create(pb.MetaSchema, { args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, ulimit: ulimits, removeMountStubsRecursive: true }),
    mounts: pbMounts,
    network: spec.network ?? pb.NetMode.UNSET,
    security: spec.security ?? pb.SecurityMode.SANDBOX,
    secretenv: (spec.secretEnv ?? []).map((s) => create(pb.SecretEnvSchema, { ID: s.id, name: s.name, optional: s.optional })),
  });
  // llb's ExecOp.Marshal adds these caps when the fields are used (client/llb/exec.go).
  const needs = [
    ...(ulimits.length ? [caps.execUlimit] : []),
    ...(spec.secretEnv?.length ? [caps.execSecretEnv] : []),
    ...(mounts.some((m) => m.type === pb.MountType.SSH) ? [caps.mountSSH] : []),
    ...(mounts.some((m) => m.tmpfsSize) ? [caps.tmpfsSize] : []),
  ];
  const v = vertex({ op: { case: "exec", value: op }, ...(spec.platform ? { platform: platform(spec.platform) } : {}) }, inputs, {
    ...named(spec.name),
    ...(spec.ignoreCache ? { ignoreCache: true } : {}),
    ...(needs.length ? { caps: needs } : {}),
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
  // llb's fileActionCopy.addCaps (client/llb/fileop.go), less modeStr's unregistered cap (see caps).
  const needs = new Set<string>();
  for (const a of actions) {
    if (a.kind !== "copy") continue;
    if (a.copy.includePatterns?.length || a.copy.excludePatterns?.length) needs.add(caps.copyPatterns);
    if (a.copy.requiredPaths?.length) needs.add(caps.copyRequiredPaths);
  }
  const v = vertex({ op: { case: "file", value: op }, ...(opts.platform ? { platform: platform(opts.platform) } : {}) }, inputs, { ...named(opts.name), ...(needs.size ? { caps: [...needs] } : {}) });
  return { vertex: v, index: 0 };
}

export { pb };
