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
import { execSummary, straceSummary } from "./strace.js";

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
    // strace mode makes two passes: syscall counts (-c), then the programs started (execve).
    const passes: ("cpu-prof" | "strace-c" | "strace-exec")[] = opts.profile ? ["cpu-prof"] : ["strace-c", "strace-exec"];
    const sections = new Map<string, string[]>();
    for (const pass of passes) {
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
          if (pass === "cpu-prof") return [argv[0]!, "--cpu-prof", `--cpu-prof-dir=${where(figure)}`, ...argv.slice(1)];
          if (pass === "strace-c") return ["strace", "-f", "-c", "-o", path.join(where(figure), "strace.txt"), ...argv];
          return ["strace", "-f", "--seccomp-bpf", "-qq", "-tt", "-s", "200", "-e", "trace=execve", "-e", "signal=none", "-o", path.join(where(figure), "execve.txt"), ...argv];
        },
      });
      for (const s of samples) {
        const lines = sections.get(s.figure) ?? [];
        sections.set(s.figure, lines);
        lines.push(`  [${pass}] ${s.seconds.toFixed(3)} s, rss ${(s.maxRssKb / 1024).toFixed(0)} MB, load ${s.load.toFixed(2)}${s.ok ? "" : " FAILED"}${s.note ? `; ${s.note}` : ""}`);
        const dir = where(s.figure);
        let files: string[] = [];
        try {
          files = readdirSync(dir).sort();
        } catch {
          continue;
        }
        if (pass === "cpu-prof") {
          for (const f of files.filter((x) => x.endsWith(".cpuprofile"))) lines.push(formatProfile(summarizeProfile(path.join(dir, f))));
        } else if (pass === "strace-c" && files.includes("strace.txt")) {
          lines.push(straceSummary(path.join(dir, "strace.txt")));
        } else if (pass === "strace-exec" && files.includes("execve.txt")) {
          lines.push(execSummary(path.join(dir, "execve.txt")));
        }
      }
    }
    for (const [figure, lines] of sections) report.push(`\n## ${wl.name} ${figure}`, ...lines);
    say(`${wl.name}: diagnosed (${mode}), files under ${path.join(root, wl.name)}`);
  }
  const text = `${report.join("\n")}\n`;
  writeFileSync(path.join(root, "summary.txt"), text);
  process.stdout.write(text);
  process.stdout.write(`(summary also in ${path.join(root, "summary.txt")})\n`);
}
