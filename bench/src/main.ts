// tbuild's benchmark harness: `npm run bench -- [WORKLOAD…] [--runs N] [--peers] …`.
// Times tbuild (and with --peers buildah and BuildKit, interleaved per run) on the
// workloads of ../shared/tools/peers/make-workloads.sh, prints a table of medians with
// ratios and peak RSS, and appends every run to /dev/shm/tbuild-bench/results.tsv.

import { parseBenchArgs, USAGE, type BenchOptions } from "./args.js";
import { BuildahEngine } from "./engines/buildah.js";
import { BuildkitEngine } from "./engines/buildkit.js";
import type { Engine } from "./engines/engine.js";
import { TbuildEngine } from "./engines/tbuild.js";
import { TbuildRemoteEngine } from "./engines/tbuild-remote.js";
import { remoteTable } from "./remote-report.js";
import { loadAverage, waitForQuiet } from "./load.js";
import { runDiagnostics } from "./profile/diagnose.js";
import { phasesTable, summaryTable } from "./report.js";
import { ResultsFile, type Sample } from "./results.js";
import { median } from "./stats.js";
import { killActiveChildren, logPath, timed } from "./proc.js";
import { runSequence } from "./sequence.js";
import { pauseEmulators } from "./emulators.js";
import { say, setUp, type BenchEnv } from "./setup.js";
import { verifyWorkloads } from "./verify-workloads.js";
import { measureMultiplatform } from "./multiplatform.js";
import path from "node:path";

function printSample(s: Sample): void {
  const rss = Number.isFinite(s.maxRssKb) ? `${(s.maxRssKb / 1024).toFixed(0).padStart(4)} MB` : "   - MB";
  process.stderr.write(
    `  run ${s.run} ${s.engine.padEnd(8)} ${s.workload.padEnd(11)} ${s.figure.padEnd(16)} ${s.seconds.toFixed(3).padStart(7)} s  rss ${rss}  load ${s.load.toFixed(2)}${s.ok ? "" : "  FAILED"}${s.note ? `  ${s.note}` : ""}\n`,
  );
}

async function makeEngines(env: BenchEnv, peers: boolean, remote = false): Promise<Engine[]> {
  const log = env.setupLog;
  if (remote) {
    // The remote backend and docker build, interleaved on one daemon.
    const buildkit = await BuildkitEngine.create(path.join(env.dirs.root, "dockerd"), env.registry.host, path.join(env.dirs.logs, "dockerd.log"));
    if (typeof buildkit === "string") throw new Error(`--remote needs BuildKit: ${buildkit}`);
    return [new TbuildRemoteEngine(buildkit), buildkit];
  }
  const engines: Engine[] = [new TbuildEngine(env.dirs.stores, log, env.baseRef)];
  if (!peers) return engines;
  const buildah = await BuildahEngine.create(path.join(env.dirs.root, "buildah"), env.registry.host, log);
  if (typeof buildah === "string") say(`skipping buildah: ${buildah}`);
  else engines.push(buildah);
  const buildkit = await BuildkitEngine.create(path.join(env.dirs.root, "dockerd"), env.registry.host, path.join(env.dirs.logs, "dockerd.log"));
  if (typeof buildkit === "string") say(`skipping BuildKit: ${buildkit}`);
  else engines.push(buildkit);
  return engines;
}

async function measure(env: BenchEnv, opts: BenchOptions, engines: Engine[]): Promise<void> {
  const session = new Date().toISOString();
  const results = new ResultsFile(env.dirs.results, session);
  const samples: Sample[] = [];
  const loads: number[] = [];
  for (const e of engines) say(`${e.name}: ${e.describe()}`);
  // Node's own start, spawned like every measured command: the start-up target is relative to it.
  const nodeStartsMs: number[] = [];
  for (const wl of env.workloads) {
    for (let run = 1; run <= opts.runs; run++) {
      for (const engine of engines) {
        const { load } = await waitForQuiet(opts.maxLoad, opts.maxWaitS, say);
        loads.push(load);
        if (engine.name === "tbuild") nodeStartsMs.push(...(await nodeStartMs(env.dirs.logs)));
        await runSequence(engine, wl, run, {
          logs: env.dirs.logs,
          outDir: env.dirs.out,
          registryHost: env.registry.host,
          load: loadAverage,
          onSample: (s) => {
            samples.push(s);
            results.add(s);
            printSample(s);
          },
        });
        await engine.settle?.();
      }
    }
  }
  if (opts.remote) {
    process.stdout.write(`\n## tbuild --builder docker:// vs docker build, same dockerd — ${session}, median of ${opts.runs} run(s)\n\n${remoteTable(samples, env.workloads.map((w) => w.name))}\n\n`);
    process.stdout.write(`- raw runs: ${env.dirs.results} (session ${session}); logs: ${env.dirs.logs}\n`);
    return;
  }
  const peers = engines.filter((e) => e.name !== "tbuild").map((e) => e.name);
  const lo = Math.min(...loads);
  const hi = Math.max(...loads);
  process.stdout.write(`\n## tbuild benchmark — ${session}, median of ${opts.runs} run(s), seconds; load average at sequence start ${lo.toFixed(2)}–${hi.toFixed(2)}\n\n`);
  process.stdout.write(`${summaryTable(samples, env.workloads.map((w) => w.name), peers, opts.runs)}\n\n`);
  process.stdout.write(`### tbuild build phases (from --progress rawjson timestamps)\n\n${phasesTable(samples, env.workloads.map((w) => w.name), median(nodeStartsMs))}\n\n`);
  for (const e of engines) process.stdout.write(`- export of ${e.name}: ${e.exportNote}\n`);
  process.stdout.write(`- cold builds start without build cache or built images, the base image ${env.baseRef} resolved from the local registry; its layers are local for tbuild (pulled into the fresh store before the timed build) and BuildKit (Docker's layer store keeps them through \`builder prune -af\`: its cold logs fetch only the manifest and config), not for buildah (\`rmi -a\`: it downloads them)\n`);
  if (peers.includes("buildkit")) process.stdout.write("- binfmt_misc's qemu handlers were off while measuring: BuildKit 0.8 runs a probe per emulator on every build (~1.2 s here with them on; bench/src/emulators.ts)\n");
  process.stdout.write(`- raw runs: ${env.dirs.results} (session ${session}); logs: ${env.dirs.logs}\n`);
}

async function main(): Promise<number> {
  let opts: BenchOptions | "help";
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = await setUp(opts.workloads, opts.regenerate);
  const engines: Engine[] = [];
  const shutdown = async (): Promise<void> => {
    for (const e of engines) await e.close().catch(() => {});
    await env.registry.stop();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    say(`${sig}: cleaning up`);
    killActiveChildren();
    void shutdown().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (opts.verifyWorkloads) return await verifyWorkloads(env);
    engines.push(...(await makeEngines(env, opts.peers && !opts.profile && !opts.strace, opts.remote)));
    if (opts.profile || opts.strace) await runDiagnostics(env, opts, engines[0] as TbuildEngine);
    else {
      if (env.workloads.length > 0) {
        const emulators = engines.some((e) => e.name === "buildkit") ? pauseEmulators() : undefined;
        if (emulators?.paused.length) say(`binfmt_misc handlers off while measuring (BuildKit 0.8 probes each on every build): ${emulators.paused.join(", ")}`);
        try {
          await measure(env, opts, engines);
        } finally {
          emulators?.restore();
        }
      }
      if (opts.multiplatform) await measureMultiplatform(env, opts.runs);
    }
    return 0;
  } finally {
    await shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/** Wall ms of three `node -e 0`, spawned as the figures are (same env, under GNU time). */
async function nodeStartMs(logDir: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) out.push((await timed([process.execPath, "-e", "0"], { timeFile: logPath(logDir, "node-e-0.time") })).seconds * 1000);
  return out;
}
