// Child processes: plain runs for setup steps, and timed runs for the figures. A timed
// run goes through GNU time (`/usr/bin/time -f "%e %M"`) for the peak RSS of the
// process tree's largest member, while the wall time is taken here with hrtime (GNU time
// rounds to 10 ms, too coarse for 40 ms no-op builds).

import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { workerPeakRssKb } from "./warm-pool.js";

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Appends the command line and its output here. */
  log?: string;
  /** Keep at most this many bytes of output in memory (default 4 MiB). */
  maxCapture?: number;
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  output: string;
}

export interface TimedResult extends RunResult {
  seconds: number;
  /** Peak resident set size in KiB (GNU time %M), or NaN when unavailable. */
  maxRssKb: number;
  /** Epoch milliseconds just before the spawn and just after the exit. */
  startMs: number;
  endMs: number;
}

/** Children still running, so an interrupted harness can stop them. */
const active = new Set<ChildProcess>();

/** Sends SIGTERM to every child the harness is still waiting for. */
export function killActiveChildren(): void {
  for (const c of active) c.kill("SIGTERM");
}

/** Quotes argv for logs and error messages. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Runs a command to completion, capturing stdout and stderr together. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error("run: empty command");
  const max = opts.maxCapture ?? 4 << 20;
  if (opts.log) appendFileSync(opts.log, `$ ${shellQuote(argv)}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    active.add(child);
    const chunks: Buffer[] = [];
    let kept = 0;
    const take = (b: Buffer): void => {
      if (opts.log) appendFileSync(opts.log, b);
      if (kept < max) {
        chunks.push(b);
        kept += b.length;
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (e) => {
      active.delete(child);
      reject(e);
    });
    child.on("close", (code, signal) => {
      active.delete(child);
      resolve({ code: code ?? -1, signal, output: Buffer.concat(chunks).toString("utf8") });
    });
  });
}

/** Runs a command and throws (with the output's tail) unless it exits 0. */
export async function runOk(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new Error(`command failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ""}): ${shellQuote(argv)}\n${tail(r.output, 15)}`);
  }
  return r.output;
}

/** Last `lines` lines of a text. */
export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** Runs a command under GNU time; wall seconds from hrtime, peak RSS from %M. */
export async function timed(argv: readonly string[], opts: RunOptions & { timeFile: string }): Promise<TimedResult> {
  const startMs = Date.now();
  const t0 = process.hrtime.bigint();
  const r = await run(["/usr/bin/time", "-f", "%e %M", "-o", opts.timeFile, ...argv], opts);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const endMs = Date.now();
  let maxRssKb = Number.NaN;
  try {
    const last = readFileSync(opts.timeFile, "utf8").trim().split("\n").pop() ?? "";
    const rss = Number(last.split(/\s+/)[1]);
    if (Number.isFinite(rss)) maxRssKb = rss;
  } catch {
    // GNU time writes nothing when the command could not start; the exit code says why.
  }
  rmSync(opts.timeFile, { force: true });
  // A command a warm worker ran: its memory is the worker's (the client's is ~1 MB).
  const worker = workerPeakRssKb(r.output);
  if (worker !== undefined) maxRssKb = Number.isFinite(maxRssKb) ? Math.max(maxRssKb, worker) : worker;
  return { ...r, seconds, maxRssKb, startMs, endMs };
}

/** Path of a log file for one measured step. */
export function logPath(logDir: string, ...parts: (string | number)[]): string {
  return path.join(logDir, `${parts.join("-")}.log`);
}
