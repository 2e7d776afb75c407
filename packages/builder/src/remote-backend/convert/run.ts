// RUN as an ExecOp, as dockerfile2llb's dispatchRun (convert.go) and dispatchRunMounts /
// dispatchSecret (convert_runmount.go, convert_secrets.go) make it: the argv after
// SHELL wrapping (heredocs as tbuild's front end reads them), the environment of ARGs in
// scope and ENV, the config's WorkingDir and User, the root mount "/" (output 0), and each
// --mount: bind (readonly unless rw, never an output; a source other than "/" as selector),
// cache (id "<namespace>/<id or target>" with an empty namespace, from scratch, sharing;
// uid/gid/mode through a scratch mkdir "[internal] setting cache mount permissions"), tmpfs,
// secret (default /run/secrets/<id>, 0/0/0400, optional unless required). Network and
// security map to pb.NetMode / pb.SecurityMode.
import path from "node:path";
import type { MountSpec, RunInstruction } from "@tbuild/parser";
import { parseReference } from "@tbuild/oci";
import { ops, type Output } from "@tbuild/llb";
import { withHistory } from "../../image-state/state.js";
import { buildRunCommand, runHistory } from "../../steps/run-command.js";
import type { InstructionContext } from "./types.js";
import type { ConvertState, StageLLB } from "./types.js";

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
  for (const m of inst.mounts) mounts.push(await convertMount(cs, m, cwd));
  if (cmd.script) {
    // BuildKit runs a lone `RUN <<EOF` with a #! line as a file at /dev/pipes/<name>.
    const file = ops.file(undefined, [{ kind: "mkfile", path: `/${cmd.script.name}`, mode: 0o755, data: Buffer.from(cmd.script.content) }], { name: "[internal] preparing inline document", platform: st.image.platform ?? cs.inputs.platforms.target });
    mounts.push({ dest: "/dev/pipes/", from: file, selector: "/", readonly: true, output: false });
  }
  const network = inst.network ?? cs.inputs.network ?? "default";
  const outs = ops.exec({
    args: cmd.argv,
    env: ctx.env,
    cwd,
    user: cfg.User ?? "",
    network: network === "none" ? pb.NetMode.NONE : network === "host" ? pb.NetMode.HOST : pb.NetMode.UNSET,
    security: inst.security === "insecure" ? pb.SecurityMode.INSECURE : pb.SecurityMode.SANDBOX,
    mounts,
    platform: st.image.platform ?? cs.inputs.platforms.target,
    name: step.label,
    ignoreCache: ctx.ignoreCache,
  });
  const fs = outs.get("/")!;
  cs.steps.push({ step, vertex: fs!.vertex, argv: cmd.argv });
  return { ...st, fs, image: withHistory(st.image, runHistory(cmd.argv, ctx.historyArgs), false) };
}

async function convertMount(cs: ConvertState, m: MountSpec, cwd: string): Promise<ops.ExecMount> {
  const target = "target" in m && m.target ? path.posix.resolve(cwd, m.target) : undefined;
  switch (m.type) {
    case "bind":
      return { dest: target!, from: await mountSource(cs, m), ...selectorOf(m.source), readonly: m.readonly, output: false };
    case "cache": {
      // cacheIDNamespace (BUILDKIT_CACHE_MOUNT_NS, empty here) + "/" + id: the ids docker build uses.
      const id = `/${m.id || path.posix.normalize(target!)}`;
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
      const id = m.id || (m.target ? path.posix.basename(m.target) : "");
      if (!id) throw new Error(`RUN --mount=type=secret needs an id (or a target): ${m.raw}`);
      if (m.env) throw new Error(`RUN --mount=type=secret,env=${m.env}: secrets as environment variables need a newer BuildKit than --builder drives; mount it as a file`);
      return {
        dest: m.target ?? `/run/secrets/${path.posix.basename(id)}`,
        type: pb.MountType.SECRET,
        output: false,
        secret: { id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional: !m.required },
      };
    }
    case "ssh":
      throw new Error("RUN --mount=type=ssh is not supported with --builder yet");
  }
}

/** A mount's source as llb.SourcePath: only when it is not the root. */
function selectorOf(source: string | undefined): { selector?: string } {
  const s = path.posix.normalize("/" + (source ?? ""));
  return s === "/" ? {} : { selector: s.length > 1 && s.endsWith("/") ? s.slice(0, -1) : s };
}

/** What `from=` names: a stage, else an image; without it, the build context. */
async function mountSource(cs: ConvertState, m: { from?: string; fromStage?: number }): Promise<Output> {
  if (m.fromStage !== undefined) return (await cs.stage(m.fromStage)).fs;
  if (m.from === undefined) return cs.context();
  const named = cs.inputs.ir.stages.find((s) => s.name === m.from!.toLowerCase());
  if (named) return (await cs.stage(named.index)).fs;
  return ops.source(`docker-image://${parseReference(m.from).toString()}`, {}, { platform: cs.inputs.platforms.target });
}

export { mountSource };
