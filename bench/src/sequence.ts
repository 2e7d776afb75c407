// One engine's measured sequence on one workload: fresh storage, cold build, no-op
// rebuild, (incremental) touch then change one file and rebuild, export, push. Each
// command is timed on its own; a failure ends the sequence (later figures depend on it).

import { appendFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Command, Engine } from "./engines/engine.js";
import { buildPhases, phasesNote } from "./events.js";
import { REMOTE_CACHE_WORKLOADS, type Figure } from "./figures.js";
import { logPath, runOk, shellQuote, tail, timed } from "./proc.js";
import type { Sample } from "./results.js";
import { changeMutated, restoreMutated, touchMutated, type Workload } from "./workloads.js";

export interface SequenceContext {
  logs: string;
  outDir: string;
  registryHost: string;
  /** Rewrites a command before it is timed (profilers, strace); gets the figure. */
  wrap?: (argv: string[], figure: Figure, engine: string) => string[];
  /** Called with each sample as soon as it is measured. */
  onSample: (s: Sample) => void;
  /** Load average to record with the samples. */
  load: () => number;
  /** Only these figures (profile mode may skip some); default all. */
  figures?: ReadonlySet<Figure>;
}

interface Planned {
  figure: Figure;
  before?: () => void | Promise<void>;
  command: () => Command;
}

function plan(engine: Engine, wl: Workload, run: number, ctx: SequenceContext): Planned[] {
  const archive = path.join(ctx.outDir, `${engine.name}-${wl.name}.tar`);
  const ociArchive = path.join(ctx.outDir, `${engine.name}-${wl.name}-build-oci.tar`);
  const ref = `${ctx.registryHost}/bench-${engine.name}-${wl.name}-r${run}-${Date.now().toString(36)}:latest`;
  const steps: Planned[] = [
    { figure: "cold_build", command: () => engine.build(wl) },
    { figure: "warm_noop", command: () => engine.build(wl) },
  ];
  if (wl.mutate) {
    steps.push(
      { figure: "touch_rebuild", before: () => touchMutated(wl), command: () => engine.build(wl) },
      { figure: "change_rebuild", before: () => changeMutated(wl), command: () => engine.build(wl) },
    );
  }
  steps.push({ figure: "export", before: () => rmSync(archive, { force: true }), command: () => engine.exportArchive(wl, archive) });
  if (engine.exportBuildOci) {
    const exportBuildOci = engine.exportBuildOci.bind(engine);
    steps.push({ figure: "export_build_oci", before: () => rmSync(ociArchive, { force: true }), command: () => exportBuildOci(wl, ociArchive) });
  }
  steps.push({ figure: "push", before: () => engine.preparePush(wl, ref), command: () => engine.push(wl, ref) });
  // Last: it empties the storage. Runner A exports, runner B (the same storage, emptied) imports.
  if (engine.prepareRemoteCache && engine.buildFromRemoteCache && REMOTE_CACHE_WORKLOADS.includes(wl.name)) {
    const prepare = engine.prepareRemoteCache.bind(engine);
    const importing = engine.buildFromRemoteCache.bind(engine);
    const cacheRef = `${ctx.registryHost}/bench-cache-${engine.name}-${wl.name}-r${run}-${Date.now().toString(36)}:cache`;
    steps.push({ figure: "remote_cache", before: () => prepare(wl, cacheRef), command: () => importing(wl, cacheRef) });
  }
  return steps.filter((s) => !ctx.figures || ctx.figures.has(s.figure));
}

/** Runs the sequence; returns its samples (also passed to ctx.onSample as they come). */
export async function runSequence(engine: Engine, wl: Workload, run: number, ctx: SequenceContext): Promise<Sample[]> {
  const samples: Sample[] = [];
  await engine.reset(wl);
  restoreMutated(wl);
  await runOk(["sync"]);
  try {
    for (const step of plan(engine, wl, run, ctx)) {
      await step.before?.();
      const cmd = step.command();
      const argv = ctx.wrap ? ctx.wrap(cmd.argv, step.figure, engine.name) : cmd.argv;
      const log = logPath(ctx.logs, engine.name, wl.name, step.figure, run);
      appendFileSync(log, `# ${new Date().toISOString()}\n`);
      const r = await timed(argv, { env: cmd.env, log, timeFile: `${log}.time` });
      const ok = r.code === 0;
      let note = "";
      const phases = engine.name === "tbuild" && ok ? buildPhases(r.output, r.startMs, r.endMs) : undefined;
      if (phases) note = phasesNote(phases);
      if (step.figure === "export") note = engine.exportNote;
      if (!ok) note = `exit ${r.code}: ${tail(r.output, 1)}`;
      const s: Sample = { engine: engine.name, workload: wl.name, figure: step.figure, run, seconds: r.seconds, maxRssKb: r.maxRssKb, load: ctx.load(), ok, note, ...(phases ? { phases } : {}) };
      samples.push(s);
      ctx.onSample(s);
      if (!ok) {
        process.stderr.write(`FAILED: ${engine.name} ${wl.name} ${step.figure}: ${shellQuote(argv)}\n${tail(r.output, 8)}\n(full log: ${log})\n`);
        break;
      }
    }
  } finally {
    restoreMutated(wl);
    await engine.cleanup(wl);
    rmSync(path.join(ctx.outDir, `${engine.name}-${wl.name}.tar`), { force: true });
    rmSync(path.join(ctx.outDir, `${engine.name}-${wl.name}-build-oci.tar`), { force: true });
  }
  return samples;
}
