// `tbuild build`: plan from flags, run the build with a progress renderer, report.

import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { CommandError, SilentFailure } from "../errors.js";
import { createRenderer } from "../progress/create-renderer.js";
import { type BuildFlags, planBuild } from "./build-plan.js";
import { onInterrupt, runBuildJobs } from "./run-builds.js";
import { canonicalTags } from "./tags.js";
import { explainCacheTable } from "../report/explain-cache.js";

export default async function buildAction(cmd: Command): Promise<number> {
  const [contextArg] = cmd.processedArgs as [string];
  const flags = cmd.optsWithGlobals<BuildFlags>();
  const plan = planBuild(contextArg, flags, {
    cwd: process.cwd(),
    env: process.env,
    readStdin: () => readFileSync(0, "utf8"),
    explicitBuild: cmd.parent?.args[0] === "build",
  });
  const tags = canonicalTags(plan.options.tags ?? []);
  const renderer = await createRenderer(plan.progress, process.stderr);
  const controller = new AbortController();
  const restore = onInterrupt(controller);
  let outcome;
  try {
    [outcome] = await runBuildJobs(
      [{ options: plan.options, dockerfile: plan.dockerfile, stored: plan.stored, displayTags: tags }],
      renderer,
      controller.signal,
    );
  } finally {
    renderer.close();
    restore();
  }
  if (controller.signal.aborted) throw new SilentFailure(130);
  if (outcome!.error !== undefined) throw outcome!.error;
  const result = outcome!.result!;
  // A multi-platform build's ID is its index's digest (BuildKit's --iidfile holds it too).
  const imageId = result.index?.digest ?? result.imageId;
  if (plan.iidfile) {
    try {
      writeFileSync(plan.iidfile, imageId);
    } catch (err) {
      throw new CommandError(`cannot write --iidfile ${plan.iidfile}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (flags.explainCache) process.stdout.write(explainCacheTable(result.steps));
  if (plan.quiet) process.stdout.write(`${imageId}\n`);
  return 0;
}
