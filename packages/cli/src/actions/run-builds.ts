// Runs one or more builds through @tbuild/builder, feeding one progress renderer
// and one failure collector. Shared by `build` (one job) and `compose build` (one
// job per service, all at once on the same store).

import type { BuildEvent, BuildHandle, BuildOptions, BuildResult, StepRef } from "../builder-api.js";
import type { ProgressRenderer } from "../progress/renderer.js";
import { type DockerfileSource, FailureCollector } from "../report/build-failure.js";

export interface BuildJob {
  /** Service name for compose; undefined for a single build. */
  source?: string;
  options: BuildOptions;
  dockerfile: DockerfileSource;
  /** Whether the image goes to the local store (then `displayTags` are shown as "naming to …"). */
  stored: boolean;
  displayTags: string[];
}

export interface JobOutcome {
  job: BuildJob;
  result?: BuildResult;
  /** The printable error (already converted by the failure collector). */
  error?: unknown;
}

/** Runs every job concurrently; never throws for a build failure (see JobOutcome.error). */
export async function runBuildJobs(jobs: BuildJob[], renderer: ProgressRenderer, signal: AbortSignal): Promise<JobOutcome[]> {
  const { build } = await import("@tbuild/builder");
  const failures = new FailureCollector();
  const runOne = async (job: BuildJob): Promise<JobOutcome> => {
    let handle: BuildHandle;
    try {
      handle = build({ ...job.options, signal });
    } catch (err) {
      return { job, error: failures.describe(err, job.dockerfile, job.source) };
    }
    let streamError: unknown;
    const failedSteps = new Set<string>();
    const emit = (ev: BuildEvent) => {
      if (ev.type === "step-error") failedSteps.add(ev.step.id);
      renderer.event(ev, job.source);
      failures.event(ev, job.source);
    };
    try {
      for await (const ev of handle) emit(ev);
    } catch (err) {
      streamError = err;
    }
    try {
      const result = await handle.result;
      if (streamError !== undefined) throw streamError;
      renderer.buildFinished({ source: job.source, imageId: result.index?.digest ?? result.imageId, stored: job.stored, tags: job.displayTags });
      return { job, result };
    } catch (err) {
      // Make sure the failed step shows as failed even if no step-error event named it.
      const step = (err as { step?: StepRef }).step;
      if (step && typeof step.id === "string" && !failedSteps.has(step.id)) {
        emit({ type: "step-error", step, message: (err as Error).message, time: Date.now() });
      }
      return { job, error: failures.describe(err, job.dockerfile, job.source) };
    }
  };
  return Promise.all(jobs.map(runOne));
}

/**
 * Calls `onAbort` on the first SIGINT/SIGTERM so builds can stop cleanly; a second
 * signal exits at once. Returns a function that removes the handlers.
 */
export function onInterrupt(controller: AbortController): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count > 1) process.exit(sig === "SIGINT" ? 130 : 143);
    process.stderr.write(`\ninterrupted: stopping the build (press Ctrl-C again to exit now)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
