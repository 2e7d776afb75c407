// `--profile` / `--strace`: tbuild only, one run per workload, every command under
// `node --cpu-prof` (per-thread profiles) or `strace -f -c`, then a per-figure account
// of where the time went: start-up baseline, build phases from the rawjson events,
// CPU self time by category and function, syscall counts and times.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BenchOptions } from "../args.js";
import type { TbuildEngine } from "../engines/tbuild.js";
import type { Figure } from "../figures.js";
import { loadAverage } from "../load.js";
import { TBUILD_MAIN } from "../paths.js";
import { timed } from "../proc.js";
import type { Sample } from "../results.js";
import { runSequence } from "../sequence.js";
import { say, type BenchEnv } from "../setup.js";
import { median } from "../stats.js";
import { formatProfile, summarizeProfile } from "./cpuprofile.js";
import { straceSummary } from "./strace.js";

async function startupBaseline(logs: string): Promise<string> {
  const probe = async (argv: string[]): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) xs.push((await timed(argv, { timeFile: path.join(logs, "probe.time") })).seconds * 1000);
    return median(xs);
  };
  const bare = await probe([process.execPath, "-e", "0"]);
  const version = await probe([process.execPath, TBUILD_MAIN, "--version"]);
  return `start-up baseline (median of 5): node -e 0 ${bare.toFixed(0)} ms; tbuild --version ${version.toFixed(0)} ms`;
}

/** Runs the diagnostic sequence on every selected workload and prints the account. */
export async function runDiagnostics(env: BenchEnv, opts: BenchOptions, tbuild: TbuildEngine): Promise<void> {
  const mode = opts.profile ? "cpu-prof" : "strace";
  const root = path.join(env.dirs.profiles, mode);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const report: string[] = [`# tbuild ${mode} diagnostics, load ${loadAverage().toFixed(2)} at start`, await startupBaseline(env.dirs.logs)];
  for (const wl of env.workloads) {
    const where = (figure: Figure): string => path.join(root, wl.name, figure);
    const samples: Sample[] = [];
    await runSequence(tbuild, wl, 1, {
      logs: env.dirs.logs,
      outDir: env.dirs.out,
      registryHost: env.registry.host,
      load: loadAverage,
      onSample: (s) => samples.push(s),
      wrap: (argv, figure) => {
        mkdirSync(where(figure), { recursive: true });
        if (opts.profile) return [argv[0]!, "--cpu-prof", `--cpu-prof-dir=${where(figure)}`, ...argv.slice(1)];
        return ["strace", "-f", "-c", "-o", path.join(where(figure), "strace.txt"), ...argv];
      },
    });
    for (const s of samples) {
      report.push(`\n## ${wl.name} ${s.figure}: ${s.seconds.toFixed(3)} s under ${mode}, rss ${(s.maxRssKb / 1024).toFixed(0)} MB, load ${s.load.toFixed(2)}${s.ok ? "" : " FAILED"}`);
      if (s.note) report.push(`  ${s.note}`);
      const dir = where(s.figure);
      let files: string[] = [];
      try {
        files = readdirSync(dir).sort();
      } catch {
        continue;
      }
      if (opts.profile) {
        for (const f of files.filter((x) => x.endsWith(".cpuprofile"))) report.push(formatProfile(summarizeProfile(path.join(dir, f))));
      } else if (files.includes("strace.txt")) {
        report.push(straceSummary(path.join(dir, "strace.txt")));
      }
    }
    say(`${wl.name}: diagnosed (${mode}), files under ${path.join(root, wl.name)}`);
  }
  const text = `${report.join("\n")}\n`;
  writeFileSync(path.join(root, "summary.txt"), text);
  process.stdout.write(text);
  process.stdout.write(`(summary also in ${path.join(root, "summary.txt")})\n`);
}
