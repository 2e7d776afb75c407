// build(): the public entry point. Parses the Dockerfile, builds the stages the target
// needs (independent ones at the same time) for each target platform (a session each,
// sharing what does not depend on the target), commits the image (several: and their
// index) and writes the outputs, streaming typed events all along.
import os from "node:os";
import path from "node:path";
import { checkQuotes, defaultPlatform, parseDockerfile, toStages, type DockerfileIR } from "@tbuild/parser";
import { Store } from "@tbuild/cache";
import type { BuildEvent, BuildHandle, BuildOptions, BuildResult } from "./api-types.js";
import { EventChannel } from "./util/event-channel.js";
import { BuildSession } from "./solve/session.js";
import { runStage } from "./solve/run-stage.js";
import { loadBaseImage } from "./solve/base-image.js";
import { applyBuildLabels } from "./image-state/config-ops.js";
import { commitImage } from "./image-state/commit-image.js";
import { writeOutputs } from "./export/outputs.js";
import { BuildAbortedError, BuildCheckError } from "./solve/errors.js";
import { checkContext, planTarget, readDockerfile, targetPlatforms } from "./solve/build-inputs.js";
import { SharedStages } from "./solve/shared-stages.js";
import { Limiter } from "./util/limiter.js";
import { commitIndex } from "./image-state/commit-index.js";
import { checkMultiPlatformOutputs, writeIndexOutputs } from "./export/index-outputs.js";
import type { ImageState } from "./image-state/state.js";
import type { CommittedImage } from "./image-state/commit-image.js";
import type { Platform } from "@tbuild/oci";
import { unusedBuildArgs, unusedBuildArgsMessage } from "./solve/unused-build-args.js";
import { errorInfo, finalError } from "./solve/outcome.js";
import { stepDirsRemoved } from "./sandbox/runtime-dir.js";
import { importCaches } from "./remote-cache/import.js";
import { exportCaches, withInlineCache } from "./remote-cache/export.js";

/**
 * Builds an image from a Dockerfile and a context directory. Iterate the returned handle
 * for progress events; await `handle.result` for the image (its digest, config, manifest,
 * per-step and per-output results). The events end with exactly one `build-done` or
 * `build-error`. Errors reject `result`: a `DockerfileSyntaxError` for a broken Dockerfile,
 * a `BuildOptionError` for an unusable option, a `ContextError` for a missing context or
 * Dockerfile, a `StepFailedError` for a RUN that exited non-zero, a `StepError` for any
 * other failing step, a `BuildAbortedError` when `signal` cancelled the build.
 */
export function build(opts: BuildOptions): BuildHandle {
  const channel = new EventChannel<BuildEvent>();
  const emit = (e: BuildEvent) => channel.push(e);
  const started = Date.now();
  // The remote backend (gRPC, protobuf) is loaded only by a build that names a builder: a
  // local build does not pay for loading it.
  const remote = (builder: string) => import("./remote-backend/remote-build.js").then((m) => m.runRemoteBuild({ ...opts, builder }, emit, started));
  const result = (opts.builder ? remote(opts.builder) : runBuild(opts, emit, started))
    .catch((e: unknown) => {
      // An imported cache that broke mid-build (a blob it listed cannot be fetched) must not
      // break the build: build again without it, as from a source that could not be read.
      if ((e as Error)?.name !== "CacheImportError" || !opts.cacheFrom?.length) throw e;
      emit({ type: "warning", message: `${(e as Error).message}; building again without the imported cache`, time: Date.now() });
      return runBuild({ ...opts, cacheFrom: [] }, emit, started);
    })
    .then(
      (r) => {
        emit({ type: "build-done", digest: r.imageId, durationMs: r.durationMs, time: Date.now() });
        return r;
      },
      (e: unknown) => {
        const err = finalError(opts, e);
        emit({ type: "build-error", error: errorInfo(err), durationMs: Date.now() - started, time: Date.now() });
        throw err;
      },
    )
    .finally(() => channel.close());
  result.catch(() => {}); // the caller may only iterate; the rejection stays on `result`
  return {
    result,
    [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
  };
}

async function runBuild(opts: BuildOptions, emit: (e: BuildEvent) => void, started: number): Promise<BuildResult> {
  // Cancelled before it began: nothing is read, no store opened, no process started.
  if (opts.signal?.aborted) throw new BuildAbortedError(opts.signal.reason);
  const context = path.resolve(opts.context);
  const dockerfile = path.resolve(context, opts.dockerfile ?? "Dockerfile");
  await checkContext(context);
  const text = opts.dockerfileText ?? (await readDockerfile(context, dockerfile));
  const ir = toStages(parseDockerfile(text, { file: path.basename(dockerfile) }));
  for (const w of ir.warnings) emit({ type: "warning", message: w.message, line: w.line, rule: w.rule, time: Date.now() });
  if (ir.checks.error && ir.warnings.length > 0) throw new BuildCheckError(ir.warnings);
  const needed = planTarget(ir, opts.target);
  // A word no shell could read fails the build before any step runs, as in BuildKit.
  checkQuotes(ir, needed);
  const target = needed[needed.length - 1]!;
  const targets = targetPlatforms(opts);
  if (targets.length > 1) checkMultiPlatformOutputs(opts.outputs ?? []);
  const buildPlatform = defaultPlatform();
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const unused = unusedBuildArgs(ir, needed, buildArgs.keys());
  if (unused.length > 0) emit({ type: "warning", message: unusedBuildArgsMessage(unused), time: Date.now() });
  const sde = buildArgs.get("SOURCE_DATE_EPOCH");
  const sourceDateEpoch = sde !== undefined && /^\d+$/.test(sde) ? Number(sde) : undefined;
  if (opts.signal?.aborted) throw new BuildAbortedError(opts.signal.reason);
  const store = await Store.open(opts.root);
  // One session per target platform; with several they share stages and one limit on RUNs.
  const shared = targets.length > 1 ? new SharedStages(new Limiter(opts.concurrency ?? os.availableParallelism())) : undefined;
  const sessions = targets.map(
    (t) => new BuildSession({ ...opts, context, dockerfile }, ir, text, store, { target: t, build: buildPlatform }, buildArgs, emit, sourceDateEpoch, { runStage, loadBaseImage }, needed.length, shared),
  );
  // A failing target stops the others, as a failing stage stops its siblings.
  for (const s of sessions) s.signal.addEventListener("abort", () => sessions.forEach((o) => o.signal.aborted || o.abort.abort(s.signal.reason)), { once: true });
  try {
    // The targets share one reading of the imported caches and one set of lazy layers (a
    // shared stage's imported layers are fetched by whichever target runs a step on them).
    if (opts.cacheFrom?.length) {
      const warn = (message: string) => emit({ type: "warning", message, time: Date.now() });
      const imports = importCaches(opts.cacheFrom, { client: () => sessions[0]!.registry(), platform: targets[0]!, warn });
      for (const s of sessions) s.imports = imports;
    }
    for (const s of sessions.slice(1)) s.lazy = sessions[0]!.lazy;
    // The context walk (stat of every file, .dockerignore) overlaps the base image's load or
    // pull instead of starting at the first COPY; the COPY awaits the same walk and reports
    // its errors.
    if (copiesFromContext(ir, needed)) sessions[0]!.contextIndex().catch(() => {});
    emit({
      type: "build-start",
      stages: needed.map((i) => ({ name: ir.stages[i]!.name ?? String(i), index: i, steps: ir.stages[i]!.instructions.length })),
      time: Date.now(),
    });
    const built = await firstFailure(sessions.map((s) => solveTarget(s, needed, target)), opts.signal);
    const steps = sessions.flatMap((s) => s.orderedStepResults());
    const first = built[0]!;
    const platformOf = (p: Platform) => ({ os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) });
    const result = {
      imageId: first.image.configDigest,
      manifestDigest: first.image.manifestDigest,
      manifest: first.image.manifest,
      config: first.image.config,
      platform: platformOf(targets[0]!),
      steps,
      durationMs: 0,
    };
    if (sessions.length === 1) {
      const outputs = await writeOutputs(sessions[0]!, first.state, first.image);
      await exportCaches([{ session: sessions[0]!, final: first.state }], () => sessions[0]!.registry());
      return { ...result, outputs, durationMs: Date.now() - started };
    }
    const images = built.map((b, i) => ({ platform: platformOf(targets[i]!), state: b.state, image: b.image }));
    const index = await commitIndex(store, images, (refs) => sessions[0]!.hold(refs, { pending: true }));
    // Every output of an index needs the layers' bytes (no cross-repository mount here).
    for (const b of built) await sessions[0]!.lazy.ensureBlobs(b.state);
    const outputs = await writeIndexOutputs(sessions[0]!, images, index);
    await exportCaches(sessions.map((session, i) => ({ session, final: built[i]!.state })), () => sessions[0]!.registry());
    return {
      ...result,
      index: {
        digest: index.digest,
        mediaType: index.index.mediaType!,
        manifests: images.map((m) => ({ platform: m.platform, imageId: m.image.configDigest, manifestDigest: m.image.manifestDigest, manifest: m.image.manifest, config: m.image.config })),
      },
      outputs,
      durationMs: Date.now() - started,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await store.close();
    await stepDirsRemoved(); // a build leaves no step directory behind once it resolves
  }
}

/** True when a stage the target needs copies from the build context (COPY without --from, ADD). */
function copiesFromContext(ir: DockerfileIR, needed: readonly number[]): boolean {
  return needed.some((i) => ir.stages[i]!.instructions.some((inst) => (inst.kind === "copy" && inst.from === undefined) || inst.kind === "add"));
}

/** One target's image: its stages built, build labels applied, committed to the store. */
async function solveTarget(session: BuildSession, needed: number[], target: number): Promise<{ state: ImageState; image: CommittedImage }> {
  for (const i of needed) session.stage(i).catch(() => {}); // start independent stages now
  let state;
  try {
    state = await session.stage(target);
  } catch (e) {
    // A sibling stage's failure aborts this one; report the failure that came first.
    const reason = session.signal.reason;
    if (e instanceof BuildAbortedError && reason instanceof Error && !(reason instanceof BuildAbortedError) && !session.opts.signal?.aborted) throw reason;
    throw e;
  }
  state = applyBuildLabels(state, session.opts.labels ?? {});
  if (session.opts.cacheTo?.some((c) => c.type === "inline")) state = await withInlineCache(session, state);
  const image = await commitImage(session.store, state, session.sourceDateEpoch, (refs) => session.hold(refs, { pending: true }));
  return { state, image };
}

/**
 * Every target's result, or the error that stopped the build: the first failure that is not
 * the abort it caused in the other targets (all settle first, so no step is left running).
 */
async function firstFailure<T>(runs: Promise<T>[], signal: AbortSignal | undefined): Promise<T[]> {
  const settled = await Promise.allSettled(runs);
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
  if (failed.length === 0) return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  if (signal?.aborted) throw failed[0];
  throw failed.find((e) => !(e instanceof BuildAbortedError)) ?? failed[0];
}
