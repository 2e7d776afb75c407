// build(): the public entry point. Parses the Dockerfile, builds the stages the target
// needs (independent ones at the same time), commits the image and writes the outputs,
// streaming typed events all along.
import path from "node:path";
import { checkQuotes, defaultPlatform, parseDockerfile, toStages } from "@tbuild/parser";
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
import { checkContext, planTarget, readDockerfile, targetPlatform } from "./solve/build-inputs.js";
import { unusedBuildArgs, unusedBuildArgsMessage } from "./solve/unused-build-args.js";
import { errorInfo, finalError } from "./solve/outcome.js";
import { stepDirsRemoved } from "./sandbox/runtime-dir.js";
import { importCaches } from "./remote-cache/import.js";
import { exportCaches, withInlineCache } from "./remote-cache/export.js";
import { runRemoteBuild } from "./remote-backend/remote-build.js";

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
  const result = (opts.builder ? runRemoteBuild({ ...opts, builder: opts.builder }, emit, started) : runBuild(opts, emit, started))
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
  const platforms = { target: opts.platform ? targetPlatform(opts.platform) : defaultPlatform(), build: defaultPlatform() };
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const unused = unusedBuildArgs(ir, needed, buildArgs.keys());
  if (unused.length > 0) emit({ type: "warning", message: unusedBuildArgsMessage(unused), time: Date.now() });
  const sde = buildArgs.get("SOURCE_DATE_EPOCH");
  const sourceDateEpoch = sde !== undefined && /^\d+$/.test(sde) ? Number(sde) : undefined;
  if (opts.signal?.aborted) throw new BuildAbortedError(opts.signal.reason);
  const store = await Store.open(opts.root);
  const session = new BuildSession({ ...opts, context, dockerfile }, ir, text, store, platforms, buildArgs, emit, sourceDateEpoch, { runStage, loadBaseImage }, needed.length);
  try {
    if (opts.cacheFrom?.length) {
      const warn = (message: string) => emit({ type: "warning", message, time: Date.now() });
      session.imports = importCaches(opts.cacheFrom, { client: () => session.registry(), platform: platforms.target, warn });
    }
    emit({
      type: "build-start",
      stages: needed.map((i) => ({ name: ir.stages[i]!.name ?? String(i), index: i, steps: ir.stages[i]!.instructions.length })),
      time: Date.now(),
    });
    for (const i of needed) session.stage(i).catch(() => {}); // start independent stages now
    let state;
    try {
      state = await session.stage(target);
    } catch (e) {
      // A sibling stage's failure aborts this one; report the failure that came first.
      const reason = session.signal.reason;
      if (e instanceof BuildAbortedError && reason instanceof Error && !(reason instanceof BuildAbortedError) && !opts.signal?.aborted) throw reason;
      throw e;
    }
    state = applyBuildLabels(state, opts.labels ?? {});
    if (opts.cacheTo?.some((c) => c.type === "inline")) state = await withInlineCache(session, state);
    const image = await commitImage(store, state, sourceDateEpoch, (refs) => session.hold(refs, { pending: true }));
    const outputs = await writeOutputs(session, state, image);
    await exportCaches(session, state, () => session.registry());
    return {
      imageId: image.configDigest,
      manifestDigest: image.manifestDigest,
      manifest: image.manifest,
      config: image.config,
      platform: { os: platforms.target.os, architecture: platforms.target.architecture, ...(platforms.target.variant ? { variant: platforms.target.variant } : {}) },
      steps: session.orderedStepResults(),
      outputs,
      durationMs: Date.now() - started,
    };
  } finally {
    await session.close();
    await store.close();
    await stepDirsRemoved(); // a build leaves no step directory behind once it resolves
  }
}
