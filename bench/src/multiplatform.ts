// The multi-platform figures (issue 15): a two-platform build of a small workload with 5
// CPU-bound RUN steps, both platforms foreign to an amd64 host (linux/arm64 and
// linux/arm/v7), so every RUN step runs under QEMU user emulation. Each figure is a cold
// build in an empty store, base pulled from the bench's registry (the multi-platform
// busybox index made offline by fixtures/base/multiarch-layout.sh, copied there by
// skopeo). Figures: the two-platform build's wall time; each platform built alone, one
// after the other (their sum is what building the platforms in turn would cost); the
// speed-up of running them in parallel (that sum / the two-platform build); the time per
// RUN step emulated, from the builds' own step timings (--progress rawjson), and native
// (the same workload for linux/amd64) for comparison.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run, runOk } from "./proc.js";
import { REPO_ROOT } from "./paths.js";
import { say, type BenchEnv } from "./setup.js";
import { median } from "./stats.js";
import { loadAverage } from "./load.js";
import { tbuildArgv } from "./tbuild-cli.js";

/** One RUN step's work: a shell loop (CPU only, no I/O), so emulation is what differs. */
const STEP = 'i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done; echo "$i $TARGETARCH" >';

function dockerfile(base: string): string {
  const runs = [1, 2, 3, 4, 5].map((n) => `RUN ${STEP} /step${n}`);
  return [`FROM ${base}`, "ARG TARGETARCH", ...runs, ""].join("\n");
}

interface BuildFigures {
  seconds: number;
  /** RUN step durations (ms) per platform label. */
  runMs: Map<string, number[]>;
}

async function coldBuild(env: BenchEnv, ctx: string, platform: string, tag: string): Promise<BuildFigures> {
  const root = path.join(env.dirs.stores, `multiplatform-${tag}`);
  rmSync(root, { recursive: true, force: true });
  const argv = tbuildArgv(root, ["build", "--progress", "rawjson", "--platform", platform, "-t", `mp-${tag}:1`, ctx]);
  const start = process.hrtime.bigint();
  const r = await run(argv, { log: path.join(env.dirs.logs, `multiplatform-${tag}.log`), maxCapture: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.code !== 0) throw new Error(`multi-platform bench: tbuild build --platform ${platform} failed:\n${r.output.slice(-2000)}`);
  const runMs = new Map<string, number[]>();
  for (const line of r.output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { type: string; status?: string; durationMs?: number; step?: { instruction: string; platform?: string } };
    if (e.type !== "step-done" || e.status !== "ran" || !e.step?.instruction.startsWith("RUN")) continue;
    const key = e.step.platform ?? platform;
    runMs.set(key, [...(runMs.get(key) ?? []), e.durationMs ?? 0]);
  }
  rmSync(root, { recursive: true, force: true });
  return { seconds, runMs };
}

/** Runs the figures `runs` times and prints a markdown table of medians on stdout. */
export async function measureMultiplatform(env: BenchEnv, runs: number): Promise<void> {
  await runOk(["bash", path.join(REPO_ROOT, "scripts/setup-emulation.sh"), "aarch64", "arm"], { log: env.setupLog });
  const layout = path.join(env.dirs.root, "multiarch-busybox");
  await runOk(["bash", path.join(REPO_ROOT, "fixtures/base/multiarch-layout.sh"), layout], { log: env.setupLog });
  const base = `${env.registry.host}/library/busybox-multi:latest`;
  await runOk(["skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false", `oci:${layout}:latest`, `docker://${base}`], { log: env.setupLog });
  const ctx = path.join(env.dirs.workloads, "multiplatform");
  mkdirSync(ctx, { recursive: true });
  writeFileSync(path.join(ctx, "Dockerfile"), dockerfile(base));
  say(`multiplatform: 2 emulated platforms × 5 RUN steps, base ${base}`);

  const loads: number[] = [];
  const both: number[] = [];
  const alone: [number[], number[]] = [[], []];
  const emulatedStep: number[] = [];
  const nativeStep: number[] = [];
  const [p1, p2] = ["linux/arm64", "linux/arm/v7"] as const;
  for (let i = 1; i <= runs; i++) {
    loads.push(loadAverage());
    const b = await coldBuild(env, ctx, `${p1},${p2}`, "both");
    const a1 = await coldBuild(env, ctx, p1, "arm64");
    const a2 = await coldBuild(env, ctx, p2, "armv7");
    const n = await coldBuild(env, ctx, "linux/amd64", "amd64");
    both.push(b.seconds);
    alone[0].push(a1.seconds);
    alone[1].push(a2.seconds);
    emulatedStep.push(...(a1.runMs.get(p1) ?? []), ...(a2.runMs.get(p2) ?? []));
    nativeStep.push(...(n.runMs.get("linux/amd64") ?? []));
    say(`multiplatform run ${i}: both ${b.seconds.toFixed(2)} s, ${p1} alone ${a1.seconds.toFixed(2)} s, ${p2} alone ${a2.seconds.toFixed(2)} s, linux/amd64 ${n.seconds.toFixed(2)} s`);
  }
  const seq = median(alone[0].map((a, i) => a + alone[1][i]!));
  const par = median(both);
  const rows = [
    [`2-platform build (${p1} + ${p2}, in parallel)`, `${par.toFixed(2)} s`],
    [`${p1} alone + ${p2} alone (in turn)`, `${seq.toFixed(2)} s (${median(alone[0]).toFixed(2)} + ${median(alone[1]).toFixed(2)})`],
    ["speed-up of building the platforms in parallel", `${(seq / par).toFixed(2)}×`],
    ["RUN step, emulated (qemu-aarch64, qemu-arm)", `${(median(emulatedStep) / 1000).toFixed(3)} s`],
    ["RUN step, native (linux/amd64)", `${(median(nativeStep) / 1000).toFixed(3)} s`],
    ["emulation slow-down per step", `${(median(emulatedStep) / median(nativeStep)).toFixed(1)}×`],
  ];
  process.stdout.write(`\n### multi-platform build — median of ${runs} run(s), cold (empty store, base pulled), 5 RUN steps per platform, ${os.availableParallelism()} cores, load average at each run's start ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (the parallel speed-up needs idle cores)\n\n`);
  process.stdout.write(`| figure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n`);
}
