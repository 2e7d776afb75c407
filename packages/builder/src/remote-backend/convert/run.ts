// RUN as an ExecOp, as dockerfile2llb's dispatchRun (convert.go) and dispatchRunMounts /
// dispatchSecret (convert_runmount.go, convert_secrets.go) make it: the argv after
// SHELL wrapping (heredocs as tbuild's front end reads them), the environment of ARGs in
// scope and ENV, the config's WorkingDir and User, the root mount "/" (output 0), and each
// --mount: bind (readonly unless rw, never an output; a source other than "/" as selector),
// cache (id "<namespace>/<id or target>" with an empty namespace, from scratch, sharing;
// uid/gid/mode through a scratch mkdir "[internal] setting cache mount permissions"), tmpfs,
// secret (dispatchSecret: id from id=, source= or the target's base name; a file at
// /run/secrets/<id>, 0/0/0400, unless env= names a variable and no target is given, then a
// pb.SecretEnv; optional unless required), ssh (dispatchSSH + llb.AddSSHSocket: an SSH
// socket mount of id "default" unless given, at /run/buildkit/ssh_agent.<n>, 0600, and
// SSH_AUTH_SOCK set to the first one unless the environment has it), each build --ulimit as a
// pb.Ulimit (dispatchRun's llb.AddUlimit). Network and security map to pb.NetMode /
// pb.SecurityMode. Secret env, ulimits and tmpfs sizes need capabilities BuildKit 0.8 lacks (caps.ts).
import path from "node:path";
import type { MountSpec, RunInstruction } from "@tbuild/parser";
import { parseReference } from "@tbuild/oci";
import { ops, type Output } from "@tbuild/llb";
import { withHistory } from "../../image-state/state.js";
import { buildRunCommand, runHistory } from "../../steps/run-command.js";
import type { InstructionContext } from "./types.js";
import type { ConvertState, StageLLB } from "./types.js";
import { requireCap } from "./caps.js";
import { namedContextOutput } from "./named-context.js";

const { pb } = ops;

export async function convertRun(ctx: InstructionContext, st: StageLLB, inst: RunInstruction): Promise<StageLLB> {
  const { cs, step } = ctx;
  const cfg = st.image.config.config ?? {};
  const cmd = buildRunCommand(inst.form, inst.command, inst.heredocs, cfg.Shell);
  const cwd = cfg.WorkingDir || "/";
  if (inst.security === "insecure" && !cs.inputs.allow.includes("security.insecure")) {
    throw new Error("RUN --security=insecure is not allowed: grant the security.insecure entitlement (--allow security.insecure) to run this step privileged");
  }
  if (inst.devices.length > 0) throw new Error(`RUN --device=${inst.devices[0]!.name}: CDI devices are not supported by tbuild`);
  const mounts: ops.ExecMount[] = [{ dest: "/", from: st.fs, output: true }];
  const secretEnv: NonNullable<ops.ExecSpec["secretEnv"]> = [];
  let sshCount = 0;
  for (const m of inst.mounts) {
    if (m.type === "secret" && m.env !== undefined) {
      await requireCap(ctx, ops.caps.execSecretEnv, `RUN --mount=type=secret,env=${m.env}`);
      secretEnv.push({ id: secretId(m), name: m.env, optional: !m.required });
      if (!m.target) continue;
    }
    if (m.type === "tmpfs" && m.size) await requireCap(ctx, ops.caps.tmpfsSize, `RUN --mount=type=tmpfs,size=${m.size}`);
    mounts.push(await convertMount(cs, m, cwd, m.type === "ssh" ? sshCount++ : 0));
  }
  const ulimits = (cs.inputs.ulimits ?? []).map((u) => ({ name: u.name, soft: u.soft === "unlimited" ? -1 : u.soft, hard: u.hard === "unlimited" ? -1 : u.hard }));
  if (ulimits.length) await requireCap(ctx, ops.caps.execUlimit, "--ulimit");
  // llb.AddSSHSocket: the first socket is the agent SSH_AUTH_SOCK names, unless it is set.
  const firstSsh = mounts.find((m) => m.type === pb.MountType.SSH);
  const env = firstSsh && !ctx.env.some((e) => e.startsWith("SSH_AUTH_SOCK=")) ? [...ctx.env, `SSH_AUTH_SOCK=${firstSsh.dest}`] : ctx.env;
  if (cmd.script) {
    // BuildKit runs a lone `RUN <<EOF` with a #! line as a file at /dev/pipes/<name>.
    const file = ops.file(undefined, [{ kind: "mkfile", path: `/${cmd.script.name}`, mode: 0o755, data: Buffer.from(cmd.script.content) }], { name: "[internal] preparing inline document", platform: st.image.platform ?? cs.inputs.platforms.target });
    mounts.push({ dest: "/dev/pipes/", from: file, selector: "/", readonly: true, output: false });
  }
  const network = inst.network ?? cs.inputs.network ?? "default";
  const outs = ops.exec({
    args: cmd.argv,
    env,
    cwd,
    user: cfg.User ?? "",
    network: network === "none" ? pb.NetMode.NONE : network === "host" ? pb.NetMode.HOST : pb.NetMode.UNSET,
    security: inst.security === "insecure" ? pb.SecurityMode.INSECURE : pb.SecurityMode.SANDBOX,
    mounts,
    platform: st.image.platform ?? cs.inputs.platforms.target,
    name: step.label,
    ignoreCache: ctx.ignoreCache,
    ...(secretEnv.length ? { secretEnv } : {}),
    ...(ulimits.length ? { ulimits } : {}),
  });
  const fs = outs.get("/")!;
  cs.steps.push({ step, vertex: fs!.vertex, argv: cmd.argv });
  return { ...st, fs, image: withHistory(st.image, runHistory(cmd.argv, ctx.historyArgs), false) };
}

async function convertMount(cs: ConvertState, m: MountSpec, cwd: string, sshIndex: number): Promise<ops.ExecMount> {
  const target = "target" in m && m.target ? path.posix.resolve(cwd, m.target) : undefined;
  switch (m.type) {
    case "bind":
      return { dest: target!, from: await mountSource(cs, m), ...selectorOf(m.source), readonly: m.readonly, output: false };
    case "cache": {
      // cacheIDNamespace (BUILDKIT_CACHE_MOUNT_NS, empty here) + "/" + id: the ids docker build uses.
      // Without id=, dispatchRunMounts takes path.Clean of the target as written, before it is
      // resolved against the working directory (dockerfile2llb/convert_runmount.go).
      const id = `/${m.id || goPathClean(m.target)}`;
      const sharing = m.sharing === "private" ? pb.CacheSharingOpt.PRIVATE : m.sharing === "locked" ? pb.CacheSharingOpt.LOCKED : pb.CacheSharingOpt.SHARED;
      let from: Output = m.from !== undefined ? await mountSource(cs, m) : undefined;
      let sel = selectorOf(m.source);
      if (!sel.selector && (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined)) {
        from = ops.file(from, [{ kind: "mkdir", path: "/cache", mode: m.mode ?? 0o755, makeParents: false, owner: `${m.uid ?? 0}:${m.gid ?? 0}` }], { name: "[internal] setting cache mount permissions" });
        sel = { selector: "/cache" };
      }
      return { dest: target!, type: pb.MountType.CACHE, from, ...sel, readonly: m.readonly, output: false, cache: { id, sharing } };
    }
    case "tmpfs":
      return { dest: target!, type: pb.MountType.TMPFS, output: false, ...(m.size ? { tmpfsSize: m.size } : {}) };
    case "secret": {
      const id = secretId(m);
      return {
        dest: m.target ?? `/run/secrets/${path.posix.basename(id)}`,
        type: pb.MountType.SECRET,
        output: false,
        secret: { id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional: !m.required },
      };
    }
    case "ssh":
      return {
        dest: m.target ? path.posix.resolve(cwd, m.target) : `/run/buildkit/ssh_agent.${sshIndex}`,
        type: pb.MountType.SSH,
        output: false,
        // dispatchSSH passes the id as written; BuildKit's sshforward asks for "default" when it is empty.
        ssh: { id: m.id ?? "", uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: !m.required },
      };
  }
}

/** Go's path.Clean: no trailing slash, "." for an empty path. */
function goPathClean(p: string): string {
  const n = path.posix.normalize(p || ".");
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** dispatchSecret's id: id=, else source=, else the target's base name. */
function secretId(m: Extract<MountSpec, { type: "secret" }>): string {
  const id = m.source || m.id || (m.target ? path.posix.basename(m.target) : "");
  if (!id) throw new Error(`RUN --mount=type=secret needs an id (or a target): ${m.raw}`);
  return id;
}

/** A mount's source as llb.SourcePath: only when it is not the root. */
function selectorOf(source: string | undefined): { selector?: string } {
  const s = path.posix.normalize("/" + (source ?? ""));
  return s === "/" ? {} : { selector: s.length > 1 && s.endsWith("/") ? s.slice(0, -1) : s };
}

/** What `from=` names: a named context, a stage, else an image; without it, the build context. */
async function mountSource(cs: ConvertState, m: { from?: string; fromStage?: number }): Promise<Output> {
  if (m.from === undefined) return cs.context();
  const context = await namedContextOutput(cs, m.from);
  if (context) return context;
  if (m.fromStage !== undefined) return (await cs.stage(m.fromStage)).fs;
  const named = cs.inputs.ir.stages.find((s) => s.name === m.from!.toLowerCase());
  if (named) return (await cs.stage(named.index)).fs;
  return ops.source(`docker-image://${parseReference(m.from).toString()}`, {}, { platform: cs.inputs.platforms.target });
}

export { mountSource };
