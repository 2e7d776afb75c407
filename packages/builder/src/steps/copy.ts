// COPY and ADD: the cache key is the content digest of exactly the files selected (for
// the build context) or the source stage's filesystem key; on a miss the file operation
// writes into a fresh layer directory on top of a merged view of the current layers.
import path from "node:path";
import type { AddInstruction, CopyInstruction } from "@tbuild/parser";
import type { StepRef } from "../api-types.js";
import { LayeredView } from "../fs/index.js";
import { copy, parseGitRef, resolveGitCommit, selectSources, type ContextIndex, type CopySource, type SelectedSource } from "../fileops/index.js";
import type { ImageState } from "../image-state/state.js";
import { layerStep } from "../solve/layer-step.js";
import type { BuildSession } from "../solve/session.js";
import { contextListing } from "../solve/explain/file-listing.js";
import { resolveCopyFrom } from "./copy-from.js";
import { httpAuthOptions } from "./http-auth.js";

export interface CopyContext {
  session: BuildSession;
  step: StepRef;
  noCache: boolean;
}

const isRemote = (s: string) => /^(https?|git|ssh):\/\//i.test(s) || s.startsWith("git@");

export async function copyStep(ctx: CopyContext, state: ImageState, inst: CopyInstruction | AddInstruction): Promise<ImageState> {
  const { session, step } = ctx;
  const workdir = state.config.config?.WorkingDir || "/";
  const fromRef = inst.kind === "copy" ? inst.from : undefined;
  const named = fromRef !== undefined ? await resolveCopyFrom(session, fromRef) : undefined;
  const fromState = named?.kind === "state" ? named.state : undefined;
  // A stage's or image's files are read only on a miss: only then are its layers needed here.
  const viewOf = async (s: ImageState) => new LayeredView(await session.layerDirs(s));
  const from: CopySource | { kind: "state"; state: ImageState } = fromState
    ? { kind: "state", state: fromState }
    : { kind: "context", index: named?.kind === "dir" ? named.index : await session.contextIndex() };
  const parents = inst.kind === "copy" ? inst.parents : false;
  // BuildKit ignores --link when --chmod is given.
  const link = inst.link && !inst.chmod;
  const local = inst.sources.filter((s) => !isRemote(s));
  // Context sources are selected now, for the key; a stage's or image's files are keyed by
  // that filesystem's key and only read on a miss.
  const plain = from.kind === "context" && !parents && inst.excludes.length === 0 ? plainPaths(from.index, local) : undefined;
  const selected =
    from.kind === "context" && local.length && !plain ? await selectSources(from, local, { parents, excludes: inst.excludes, op: inst.kind }) : undefined;
  const sourceKey =
    from.kind === "state"
      ? { from: from.state.fsKey, sources: local }
      : { context: plain ? await from.index.digest(plain) : await contextDigest(from, selected ?? [], inst.excludes) };
  // A git source is keyed by the commit its ref points at now, so a new commit reruns it.
  const commits = inst.kind === "add" ? await gitCommits(inst.sources) : [];
  const inputs = {
    v: 1,
    op: inst.kind,
    // --link layers do not depend on what is below them: that is what makes them reusable.
    parent: link ? null : state.fsKey,
    sources: inst.sources,
    sourceKey,
    heredocs: inst.heredocs.map((h) => ({ name: h.name, content: h.content })),
    dest: inst.dest,
    workdir,
    chown: inst.chown ?? null,
    chmod: inst.chmod ?? null,
    link,
    parents,
    excludes: inst.excludes,
    checksum: inst.kind === "add" ? (inst.checksum ?? null) : null,
    unpack: inst.kind === "add" ? (inst.unpack ?? null) : null,
    sde: session.sourceDateEpoch ?? null,
    commits,
  };
  // On a miss only: the per-file listing that names changed files next time (no new hashing).
  const index = from.kind === "context" ? from.index : undefined;
  const listed = index && (plain ?? (selected?.length ? contextPaths(selected) : undefined));
  const explain = index && listed ? { listing: () => contextListing(index, listed, plain ? [] : inst.excludes) } : undefined;
  return layerStep(session, step, state, { inputs, createdBy: copyHistory(inst), noCache: ctx.noCache, explain }, async (draft) => {
    // Only a miss downloads, so only a miss reads the HTTP auth secrets.
    const http = inst.kind === "add" ? await httpAuthOptions(session, inst.sources) : undefined;
    const targetView = await viewOf(state);
    await session.runLimiter.run(async () =>
      copy({
        op: inst.kind,
        sources: inst.sources,
        heredocs: inst.heredocs.map((h) => ({ name: h.name, content: h.content })),
        dest: inst.dest,
        workdir,
        from: from.kind === "state" ? { kind: "view", view: await viewOf(from.state) } : from,
        chown: inst.chown,
        chmod: inst.chmod,
        link,
        parents,
        excludes: inst.excludes,
        ...(selected ? { selected } : {}),
        checksum: inst.kind === "add" ? inst.checksum : undefined,
        unpack: inst.kind === "add" ? inst.unpack : undefined,
        keepGitDir: inst.kind === "add" ? inst.keepGitDir : undefined,
        ...(http ? { http } : {}),
        target: { view: targetView, layerDir: draft.path },
        sourceDateEpoch: session.sourceDateEpoch,
        signal: session.signal,
      }),
    );
  });
}

async function gitCommits(sources: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const src of sources) {
    const ref = parseGitRef(src);
    if (ref) out.push(await resolveGitCommit(ref));
  }
  return out;
}

/**
 * The context paths of sources that name existing files or directories literally (no
 * wildcard, no symlink to follow): their digest is the key without a selection pass.
 * Undefined when any source needs the full selection rules.
 */
function plainPaths(index: ContextIndex, sources: readonly string[]): string[] | undefined {
  if (sources.length === 0) return undefined;
  const out: string[] = [];
  for (const src of sources) {
    if (/[*?[\\]/.test(src)) return undefined;
    const rel = path.posix.normalize("/" + src).slice(1).replace(/\/$/, "");
    const entry = rel === "" ? undefined : index.get(rel);
    if (rel !== "" && (!entry || entry.type === "symlink")) return undefined;
    out.push(rel === "" ? "." : rel);
  }
  return [...new Set(out)].sort();
}

/** Content digest of exactly the context files a COPY reads (selection rules applied). */
async function contextDigest(from: CopySource, selected: SelectedSource[], excludes: string[]): Promise<string> {
  if (from.kind !== "context" || selected.length === 0) return "none";
  return from.index.digest(contextPaths(selected), excludes.length ? { excludes } : undefined);
}

/** The context paths a selection covers, as the key's digest takes them. */
function contextPaths(selected: SelectedSource[]): string[] {
  return [...new Set(selected.map((s) => relative(s.root.path)))].sort();
}

function relative(p: string): string {
  const r = path.posix.relative("/", p);
  return r === "" ? "." : r;
}

/** `COPY src… dest # buildkit` as BuildKit words it (flags and --from are not shown). */
export function copyHistory(inst: CopyInstruction | AddInstruction): string {
  const words = [...inst.sources, ...inst.heredocs.map((h) => `<<${h.name}`), inst.dest];
  return `${inst.kind.toUpperCase()} ${words.join(" ")} # buildkit`;
}
