// COPY and ADD as one FileOp, as dockerfile2llb's dispatchCopy makes it (convert_copy.go): one
// copy action per source, chained, each with BuildKit's CopyInfo for Dockerfile copies —
// FollowSymlinks, CopyDirContentsOnly, CreateDestPath, AllowWildcard, AllowEmptyWildcard,
// AttemptUnpack for ADD — and the --chown user (looked up in the destination's /etc files)
// and an octal --chmod as the mode. The destination is resolved against WORKDIR and keeps
// a trailing "/" (pathRelativeToWorkingDir). A heredoc is a file made in scratch ("preparing
// inline document", 0644) and copied with only Mode and CreateDestPath; a URL is an https://
// source op (llb.HTTP with the file name and --checksum) and a git URL a git:// source op,
// both copied with only Mode and CreateDestPath (and --unpack for a URL).
import path from "node:path";
import type { AddInstruction, CopyInstruction } from "@tbuild/parser";
import { parseReference } from "@tbuild/oci";
import { ops, type Output } from "@tbuild/llb";
import { withHistory } from "../../image-state/state.js";
import { copyHistory } from "../../steps/copy.js";
import { chompHeredoc } from "../../steps/run-command.js";
import type { InstructionContext } from "./types.js";
import type { StageLLB } from "./types.js";

const isHttp = (s: string) => /^https?:\/\//i.test(s);
const isGit = (s: string) => /^git:\/\//i.test(s) || s.startsWith("git@") || (/^https?:\/\//i.test(s) && /\.git(#|$)/.test(s));

export async function convertCopy(ctx: InstructionContext, st: StageLLB, inst: CopyInstruction | AddInstruction): Promise<StageLLB> {
  const { cs, step } = ctx;
  const workdir = st.image.config.config?.WorkingDir || "/";
  let dest = path.posix.resolve(workdir, inst.dest);
  if (inst.dest === "." || inst.dest === "" || inst.dest.endsWith("/")) dest = dest === "/" ? "/" : `${dest}/`;
  const mode = inst.chmod ? octalMode(inst.chmod) : -1;
  if (inst.kind === "copy" && inst.parents) throw new Error("COPY --parents is not supported with --builder yet");
  if (inst.excludes.length) throw new Error("COPY --exclude is not supported with --builder yet");
  const source = await copySource(ctx, inst);
  const actions: ops.FileActionSpec[] = [];
  const unpack = inst.kind === "add" && inst.unpack !== false;
  const info = { followSymlink: true, dirCopyContents: true, attemptUnpackDockerCompatibility: unpack, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, mode };
  for (const src of inst.sources) {
    if (inst.kind === "add" && isGit(src)) {
      const [url, ref] = src.split("#", 2) as [string, string | undefined];
      const git = ops.source(`git://${url.replace(/^(https?|git):\/\//, "")}${ref ? `#${ref}` : ""}`, { "git.fullurl": url, ...(inst.keepGitDir ? { "git.keepgitdir": "true" } : {}) }, { name: `[internal] load git source ${src}` });
      actions.push({ kind: "copy", src: "/", dest, from: git, owner: inst.chown, copy: { mode, createDestPath: true } });
    } else if (inst.kind === "add" && isHttp(src)) {
      const base = path.posix.basename(new URL(src).pathname);
      const name = base && base !== "/" && base !== "." ? base : "__unnamed__";
      const http = ops.source(src, { "http.filename": name, ...(inst.checksum ? { "http.checksum": inst.checksum } : {}) }, { name: `[internal] load remote file ${src}` });
      // Remote files are not unpacked unless --unpack (convert_copy.go).
      actions.push({ kind: "copy", src: `/${name}`, dest, from: http, owner: inst.chown, copy: { mode, createDestPath: true, attemptUnpackDockerCompatibility: inst.unpack === true } });
    } else {
      actions.push({ kind: "copy", src: goClean(`/${src}`), dest, from: source, owner: inst.chown, copy: info });
    }
  }
  for (const h of inst.heredocs) {
    // BuildKit ≥ 0.12 makes COPY heredoc files 0644 (moby/buildkit#3992), as tbuild does.
    const body = h.chomp ? chompHeredoc(h.content) : h.content;
    const doc = ops.file(undefined, [{ kind: "mkfile", path: `/${h.name}`, mode: 0o644, data: Buffer.from(body) }], { name: "[internal] preparing inline document", platform: st.image.platform ?? cs.inputs.platforms.target });
    actions.push({ kind: "copy", src: `/${h.name}`, dest, from: doc, owner: inst.chown, copy: { mode, createDestPath: true } });
  }
  const fs = ops.file(st.fs, actions, { name: step.label, platform: st.image.platform ?? cs.inputs.platforms.target });
  cs.steps.push({ step, vertex: fs!.vertex });
  return { ...st, fs, image: withHistory(st.image, copyHistory(inst), false) };
}

/** --from: a stage, else an image; without it, the build context. */
async function copySource(ctx: InstructionContext, inst: CopyInstruction | AddInstruction): Promise<Output> {
  const { cs } = ctx;
  if (inst.kind !== "copy" || inst.from === undefined) return cs.context();
  if (inst.fromStage !== undefined) return (await cs.stage(inst.fromStage)).fs;
  const named = cs.inputs.ir.stages.find((s) => s.name === inst.from!.toLowerCase());
  if (named) return (await cs.stage(named.index)).fs;
  if (/^\d+$/.test(inst.from)) return (await cs.stage(Number(inst.from))).fs;
  return ops.source(`docker-image://${parseReference(inst.from).toString()}`, {}, { platform: cs.inputs.platforms.target });
}

/** Go's filepath.Join("/", src): cleaned, no trailing slash. */
function goClean(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

function octalMode(spec: string): number {
  if (!/^[0-7]{1,4}$/.test(spec)) throw new Error(`--chmod=${spec}: only octal modes are supported with --builder (BuildKit 0.8 has no symbolic modes)`);
  return parseInt(spec, 8);
}
