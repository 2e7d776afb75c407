// build(): the public entry point. Parses the Dockerfile, builds the stages the target
// needs (independent ones at the same time), commits the image and writes the outputs,
// streaming typed events all along.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { defaultPlatform, parseDockerfile, parsePlatform, planStages, toStages } from "@tbuild/parser";
import { Store } from "@tbuild/cache";
import type { BuildEvent, BuildHandle, BuildOptions, BuildResult } from "./api-types.js";
import { EventChannel } from "./util/event-channel.js";
import { BuildSession } from "./solve/session.js";
import { applyBuildLabels } from "./image/config-ops.js";
import { commitImage } from "./image/commit-image.js";
import { writeOutputs } from "./export/outputs.js";
import { BuildAbortedError } from "./solve/session.js";
import { readFileInRoot } from "./fs/index.js";
import { stepDirsRemoved } from "./sandbox/runtime-dir.js";

/**
 * Builds an image from a Dockerfile and a context directory. Iterate the returned handle
 * for progress events; await `handle.result` for the image (its digest, config, manifest
 * and per-step results). Errors reject `result`: a `DockerfileSyntaxError` for a broken
 * Dockerfile, a `StepFailedError` for a RUN that exited non-zero, a `StepError` for any
 * other failing step.
 */
export function build(opts: BuildOptions): BuildHandle {
  const channel = new EventChannel<BuildEvent>();
  const result = runBuild(opts, (e) => channel.push(e)).finally(() => channel.close());
  result.catch(() => {}); // the caller may only iterate; the rejection stays on `result`
  return {
    result,
    [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
  };
}

async function runBuild(opts: BuildOptions, emit: (e: BuildEvent) => void): Promise<BuildResult> {
  const started = Date.now();
  const context = path.resolve(opts.context);
  const dockerfile = path.resolve(context, opts.dockerfile ?? "Dockerfile");
  const text = opts.dockerfileText ?? (await readDockerfile(context, dockerfile));
  const ir = toStages(parseDockerfile(text, { file: path.basename(dockerfile) }));
  for (const w of ir.warnings) emit({ type: "warning", message: w.message, line: w.line, rule: w.rule, time: Date.now() });
  if (ir.checks.error && ir.warnings.length > 0) {
    throw new Error(`the Dockerfile has ${ir.warnings.length} build check warning(s) and # check=error=true is set`);
  }
  const needed = planStages(ir, opts.target);
  const target = needed[needed.length - 1]!;
  const buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
  const sde = buildArgs.get("SOURCE_DATE_EPOCH");
  const sourceDateEpoch = sde !== undefined && /^\d+$/.test(sde) ? Number(sde) : undefined;
  const platforms = { target: opts.platform ? parsePlatform(opts.platform) : defaultPlatform(), build: defaultPlatform() };
  const store = await Store.open(opts.root);
  const session = new BuildSession({ ...opts, context, dockerfile }, ir, text, store, platforms, buildArgs, emit, sourceDateEpoch);
  try {
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
    const image = await commitImage(store, state, sourceDateEpoch, (refs) => session.hold(refs, { pending: true }));
    await writeOutputs(session, state, image);
    const durationMs = Date.now() - started;
    emit({ type: "build-done", digest: image.configDigest, durationMs, time: Date.now() });
    return {
      imageId: image.configDigest,
      manifestDigest: image.manifestDigest,
      manifest: image.manifest,
      config: image.config,
      platform: { os: platforms.target.os, architecture: platforms.target.architecture, ...(platforms.target.variant ? { variant: platforms.target.variant } : {}) },
      steps: session.stepResults,
      durationMs,
    };
  } finally {
    await session.close();
    await store.close();
    await stepDirsRemoved(); // a build leaves no step directory behind once it resolves
  }
}

/**
 * Reads the Dockerfile. One inside the context is read like any context file: a symlink is
 * followed inside the context only, never out of it. One the caller named outside the
 * context (`-f ../Dockerfile`) is read as given.
 */
async function readDockerfile(context: string, file: string): Promise<string> {
  const rel = path.relative(context, file);
  const inside = rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  try {
    return inside ? (await readFileInRoot(context, rel)).toString("utf8") : await fsp.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`failed to read the Dockerfile: ${file}: no such file`);
    throw new Error(`failed to read the Dockerfile ${file}: ${(e as Error).message}`);
  }
}
