// `tbuild compose build`: builds every service with a build section at once, on one
// store, with one progress view (each step labelled with its service).

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { OutputSpec } from "../builder-api.js";
import { loadProjectOf, type ComposeProject } from "../compose/project.js";
import { debugEnabled, ExitCode, reportError, SilentFailure, UsageError } from "../errors.js";
import { parseBuildArgs } from "../options/key-value.js";
import { createRenderer } from "../progress/create-renderer.js";
import type { ProgressMode } from "../progress/renderer.js";
import { type BuildJob, onInterrupt, runBuildJobs } from "./run-builds.js";
import { canonicalTags } from "./tags.js";

export interface ComposeBuildFlags {
  file?: string;
  projectName?: string;
  envFile?: string;
  buildArg?: string[];
  cache: boolean;
  progress: ProgressMode;
  quiet?: boolean;
  push?: boolean;
  explainCache?: boolean;
  root?: string;
}

export default async function composeBuild(cmd: Command): Promise<number> {
  const [services] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<ComposeBuildFlags>();
  const project = loadProjectOf(f, services);
  if (project.builds.length === 0) {
    if (!f.quiet) process.stderr.write(`nothing to build: no service in ${project.file} has a build section\n`);
    return ExitCode.ok;
  }
  await buildComposeServices(project, f);
  return ExitCode.ok;
}

/**
 * Builds the project's services that have a build section (all of `project.builds`) at once;
 * throws a SilentFailure after reporting a failed build. `compose up` uses it too.
 */
export async function buildComposeServices(project: ComposeProject, f: ComposeBuildFlags): Promise<void> {
  const cwd = process.cwd();
  const overrides = parseBuildArgs(f.buildArg ?? []);
  const jobs: BuildJob[] = [];
  for (const b of project.builds) {
    const options = { ...b.options };
    if (Object.keys(overrides).length) options.buildArgs = { ...options.buildArgs, ...overrides };
    if (!f.cache) options.noCache = true;
    if (f.root !== undefined) options.root = resolve(cwd, f.root);
    const outputs: OutputSpec[] = [{ type: "store" }];
    if (f.push) for (const name of options.tags ?? []) outputs.push({ type: "registry", name });
    options.outputs = outputs;
    const source = project.builds.length > 1 ? b.service : undefined;
    jobs.push({ source, options, dockerfile: { name: b.dockerfileName, text: options.dockerfileText }, stored: true, displayTags: canonicalTags(options.tags ?? []) });
  }
  if (f.push && jobs.some((j) => !j.options.tags?.length)) throw new UsageError("--push: every service needs an image name");
  await readDockerfiles(jobs);

  const renderer = await createRenderer(f.quiet ? "quiet" : f.progress, process.stderr);
  const controller = new AbortController();
  const restore = onInterrupt(controller);
  let outcomes;
  try {
    outcomes = await runBuildJobs(jobs, renderer, controller.signal);
  } finally {
    renderer.close();
    restore();
  }
  if (controller.signal.aborted) throw new SilentFailure(130);
  if (f.explainCache) {
    const { explainCacheTable } = await import("../report/explain-cache.js");
    for (const o of outcomes) {
      if (!o.result) continue;
      process.stdout.write(`${o.job.source ?? project.builds[0]!.service}:\n${explainCacheTable(o.result.steps)}`);
    }
  }
  const failed = outcomes.filter((o) => o.error !== undefined);
  for (const o of failed) reportError(o.error, debugEnabled());
  if (failed.length) {
    process.stderr.write(`ERROR: ${failed.length} of ${jobs.length} service build${jobs.length === 1 ? "" : "s"} failed: ${failed.map((o) => o.job.source ?? project.builds[0]!.service).join(", ")}\n`);
    throw new SilentFailure(ExitCode.failure);
  }
}

async function readDockerfiles(jobs: BuildJob[]): Promise<void> {
  await Promise.all(jobs.map(async (j) => {
    if (j.dockerfile.text !== undefined || j.options.dockerfile === undefined) return;
    try {
      j.dockerfile.text = await readFile(j.options.dockerfile, "utf8");
    } catch {
      // The builder reports a missing Dockerfile with its own message.
    }
  }));
}
