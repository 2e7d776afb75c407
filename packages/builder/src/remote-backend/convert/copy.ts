// COPY and ADD as one FileOp, as dockerfile2llb's dispatchCopy makes it (convert_copy.go): one
// copy action per source, chained, each with BuildKit's CopyInfo for Dockerfile copies —
// FollowSymlinks, CopyDirContentsOnly, CreateDestPath, AllowWildcard, AllowEmptyWildcard,
// AttemptUnpack for ADD — and the --chown user (looked up in the destination's /etc files),
// --exclude patterns on every action (llb.WithExcludePatterns), and --chmod: an octal mode as
// the mode, a symbolic one (u+x, Dockerfile 1.14) as modeStr with mode 0 (llb's fileActionCopy).
// COPY --parents copies from "/" (or from the part before a "/./" pivot) with the rest as an
// include pattern, and — when there is no wildcard — that path as a required path. The
// destination is resolved against WORKDIR and keeps a trailing "/"
// (pathRelativeToWorkingDir). A heredoc is a file made in scratch ("preparing inline
// document", 0644) and copied with only Mode and CreateDestPath; a URL is an https:// source
// op (llb.HTTP with the file name and --checksum) and a git URL a git:// source op, both
// copied with only Mode and CreateDestPath (and --unpack for a URL). Patterns, required paths
// and mode strings need capabilities BuildKit 0.8 lacks (caps.ts).
import path from "node:path";
import type { AddInstruction, CopyInstruction } from "@tbuild/parser";
import { parseReference } from "@tbuild/oci";
import { ops, type Output } from "@tbuild/llb";
import { withHistory } from "../../image-state/state.js";
import { copyHistory } from "../../steps/copy.js";
import { chompHeredoc } from "../../steps/run-command.js";
import { parseChmod } from "../../fileops/chmod.js";
import { daemonHas, requireCap } from "./caps.js";
import { namedContextOutput } from "./named-context.js";
import type { InstructionContext } from "./types.js";
import type { StageLLB } from "./types.js";

const isHttp = (s: string) => /^https?:\/\//i.test(s);
const isGit = (s: string) => /^git:\/\//i.test(s) || s.startsWith("git@") || (/^https?:\/\//i.test(s) && /\.git(#|$)/.test(s));

export async function convertCopy(ctx: InstructionContext, st: StageLLB, inst: CopyInstruction | AddInstruction): Promise<StageLLB> {
  const { cs, step } = ctx;
  const workdir = st.image.config.config?.WorkingDir || "/";
  let dest = path.posix.resolve(workdir, inst.dest);
  if (inst.dest === "." || inst.dest === "" || inst.dest.endsWith("/")) dest = dest === "/" ? "/" : `${dest}/`;
  const mode = await chmodOf(ctx, inst.chmod);
  const parents = inst.kind === "copy" && inst.parents;
  if (parents) await requireCap(ctx, ops.caps.copyPatterns, "COPY --parents");
  if (inst.excludes.length) await requireCap(ctx, ops.caps.copyPatterns, `${inst.kind.toUpperCase()} --exclude`);
  // BuildKit before v0.26 has no required paths: there a --parents path that is missing copies nothing, as dockerfile2llb before 1.20 made it.
  const required = parents && (await daemonHas(ctx, ops.caps.copyRequiredPaths));
  const excl = inst.excludes.length ? { excludePatterns: inst.excludes } : {};
  const source = await copySource(ctx, inst);
  const actions: ops.FileActionSpec[] = [];
  const unpack = inst.kind === "add" && inst.unpack !== false;
  const info = { followSymlink: true, dirCopyContents: true, attemptUnpackDockerCompatibility: unpack, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, ...mode, ...excl };
  for (const src of inst.sources) {
    if (inst.kind === "add" && isGit(src)) {
      const [url, ref] = src.split("#", 2) as [string, string | undefined];
      const git = ops.source(`git://${url.replace(/^(https?|git):\/\//, "")}${ref ? `#${ref}` : ""}`, { "git.fullurl": url, ...(inst.keepGitDir ? { "git.keepgitdir": "true" } : {}) }, { name: `[internal] load git source ${src}` });
      actions.push({ kind: "copy", src: "/", dest, from: git, owner: inst.chown, copy: { ...mode, createDestPath: true, ...excl } });
    } else if (inst.kind === "add" && isHttp(src)) {
      const base = path.posix.basename(new URL(src).pathname);
      const name = base && base !== "/" && base !== "." ? base : "__unnamed__";
      const http = ops.source(src, { "http.filename": name, ...(inst.checksum ? { "http.checksum": inst.checksum } : {}) }, { name: `[internal] load remote file ${src}` });
      // Remote files are not unpacked unless --unpack (convert_copy.go).
      actions.push({ kind: "copy", src: `/${name}`, dest, from: http, owner: inst.chown, copy: { ...mode, createDestPath: true, attemptUnpackDockerCompatibility: inst.unpack === true, ...excl } });
    } else if (parents) {
      const p = parentsCopy(src);
      actions.push({ kind: "copy", src: p.src, dest, from: source, owner: inst.chown, copy: { ...info, includePatterns: [p.pattern], ...(required && p.required ? { requiredPaths: [p.required] } : {}) } });
    } else {
      actions.push({ kind: "copy", src: goClean(`/${src}`), dest, from: source, owner: inst.chown, copy: info });
    }
  }
  for (const h of inst.heredocs) {
    // BuildKit ≥ 0.12 makes COPY heredoc files 0644 (moby/buildkit#3992), as tbuild does.
    const body = h.chomp ? chompHeredoc(h.content) : h.content;
    const doc = ops.file(undefined, [{ kind: "mkfile", path: `/${h.name}`, mode: 0o644, data: Buffer.from(body) }], { name: "[internal] preparing inline document", platform: st.image.platform ?? cs.inputs.platforms.target });
    actions.push({ kind: "copy", src: `/${h.name}`, dest, from: doc, owner: inst.chown, copy: { ...mode, createDestPath: true, ...excl } });
  }
  const fs = ops.file(st.fs, actions, { name: step.label, platform: st.image.platform ?? cs.inputs.platforms.target });
  cs.steps.push({ step, vertex: fs!.vertex });
  return { ...st, fs, image: withHistory(st.image, copyHistory(inst), false) };
}

/** --from: a named context, a stage, else an image; without it, the build context. */
async function copySource(ctx: InstructionContext, inst: CopyInstruction | AddInstruction): Promise<Output> {
  const { cs } = ctx;
  if (inst.kind !== "copy" || inst.from === undefined) return cs.context();
  const context = await namedContextOutput(cs, inst.from);
  if (context) return context;
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

/**
 * --chmod as a copy action's mode fields (dispatchCopy: ParseUint(chmod, 8), else mode.Parse
 * as ModeStr). A daemon before v0.17 would read a modeStr copy as mode 0: refused there, by
 * asking exec.validexitcode (the v0.17 capability that stands for modeStr, llb ops.ts caps).
 */
async function chmodOf(ctx: InstructionContext, spec: string | undefined): Promise<{ mode: number; modeStr?: string }> {
  if (!spec) return { mode: -1 };
  const fn = parseChmod(spec); // the local build's parser: the same errors for a bad mode
  if (fn.octal !== undefined) return { mode: fn.octal };
  await requireCap(ctx, ops.caps.execValidExitCode, `--chmod=${spec} (a symbolic mode)`);
  return { mode: 0, modeStr: spec };
}

/** dockerfile2llb's containsWildcards: *, ? or [ not escaped by a backslash. */
function hasWildcard(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "*" || s[i] === "?" || s[i] === "[") return true;
  }
  return false;
}

/**
 * A COPY --parents source as dockerfile2llb splits it: before a "/./" pivot is the directory
 * copied from (else "/"), after it the include pattern (relative), and without wildcards in
 * either the whole path is required.
 */
export function parentsCopy(word: string): { src: string; pattern: string; required?: string } {
  const pivot = word.indexOf("/./");
  const from = pivot >= 0 ? word.slice(0, pivot) : "/";
  const rest = pivot >= 0 ? word.slice(pivot + 3) : word;
  const pattern = goClean(`/${rest}`).slice(1);
  const required = hasWildcard(from) || hasWildcard(rest) ? undefined : goClean(`/${from}/${rest}`);
  return { src: goClean(`/${from}`), pattern, ...(required ? { required } : {}) };
}
