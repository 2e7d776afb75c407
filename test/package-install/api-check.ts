// Compiled under `tsc --strict` in a project that installed the packed @tbuild packages,
// then run: exercises the build API's promises (issue 20, points 1–7) through the public
// entry point only, and prints what it saw as JSON for test/builder-package-install.test.ts.
//   node api-check.js <context dir> <store root> <oci tarball path>
import {
  build,
  BuildAbortedError,
  BuildOptionError,
  ContextError,
  DockerfileSyntaxError,
  FileOpError,
  StepError,
  type BuildEvent,
  type BuildOptions,
  type BuildResult,
} from "@tbuild/builder";

interface Outcome {
  events: BuildEvent[];
  result?: BuildResult;
  error?: unknown;
}

async function run(opts: BuildOptions): Promise<Outcome> {
  const handle = build(opts);
  const events: BuildEvent[] = [];
  for await (const e of handle) events.push(e);
  try {
    return { events, result: await handle.result };
  } catch (error) {
    return { events, error };
  }
}

const outcomeEvents = (o: Outcome): string[] => o.events.filter((e) => e.type === "build-done" || e.type === "build-error").map((e) => e.type);

const [context, root, ociDest] = process.argv.slice(2) as [string, string, string];
const neverRoot = `${root}-never`;

const aborted = await run({ context, root: neverRoot, signal: AbortSignal.abort("stop") });
const first = await run({ context, root, tags: ["probe:1"], buildArgs: { V: "2", NOPE: "x" }, outputs: [{ type: "store" }, { type: "oci", dest: ociDest }] });
const again = await run({ context, root, tags: ["probe:1"], buildArgs: { V: "2", NOPE: "x" } });
const syntax = await run({ context, root, dockerfileText: "FROM scratch\nFOO bar\n" });
const target = await run({ context, root, target: "nope" });
const missing = await run({ context: `${context}/missing`, root });
const copy = await run({ context, root, dockerfileText: "FROM scratch\nCOPY missing.txt /\n" });
const copyCause = copy.error instanceof StepError ? copy.error.cause : undefined;

console.log(JSON.stringify({
  aborted: {
    isBuildAbortedError: aborted.error instanceof BuildAbortedError,
    cause: aborted.error instanceof Error ? aborted.error.cause : undefined,
  },
  steps: first.result?.steps.map((s) => [s.step.label, s.status, s.cached]),
  rebuildAllCached: again.result?.steps.every((s) => s.cached),
  outputs: first.result?.outputs,
  exportResults: first.events.flatMap((e) => (e.type === "export" ? [e.result] : [])),
  warnings: first.events.flatMap((e) => (e.type === "warning" ? [e.message] : [])),
  outcomes: [aborted, first, again, syntax, target, missing, copy].map(outcomeEvents),
  errors: {
    syntax: syntax.error instanceof DockerfileSyntaxError,
    target: target.error instanceof BuildOptionError ? target.error.option : undefined,
    missing: missing.error instanceof ContextError ? missing.error.code : undefined,
    copy: copyCause instanceof FileOpError ? copyCause.code : undefined,
  },
}));
