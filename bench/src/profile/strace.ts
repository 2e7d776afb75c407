// Reads strace output: the `strace -f -c` syscall table (blocking waits left out, they
// only say that a thread slept) and a `strace -f -tt -e trace=execve` log (which programs
// tbuild starts, how often, and when).

import { readFileSync } from "node:fs";
import path from "node:path";

/** Syscalls in which a thread merely waits; their time is not work. */
const WAITS = new Set(["futex", "epoll_pwait", "epoll_wait", "wait4", "waitid", "nanosleep", "clock_nanosleep", "sched_yield", "poll", "ppoll", "select", "pselect6", "rt_sigtimedwait", "rt_sigsuspend"]);

/** The strace -c table without the wait rows: the first `top` rows by time, and the total. */
export function straceSummary(file: string, top = 12): string {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  const head = lines.findIndex((l) => l.includes("% time"));
  if (head < 0) return lines.slice(0, top).join("\n");
  const rows = lines.slice(head + 2).filter((l) => !l.startsWith("------") && !/\stotal\s*$/.test(l));
  const work = rows.filter((l) => !WAITS.has(l.trim().split(/\s+/).pop() ?? ""));
  const total = lines.find((l) => /\stotal\s*$/.test(l)) ?? "";
  return [`${lines[head]!}   (waits omitted: ${[...WAITS].slice(0, 4).join(", ")}…)`, ...work.slice(0, top), total].map((l) => `    ${l}`).join("\n");
}

/** Programs executed (successful execve only), counted, with first start times. */
export function execSummary(file: string): string {
  const lines = readFileSync(file, "utf8").split("\n");
  const re = /^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) execve\("([^"]+)", \[(.*?)\]\s*(?:,.*)?\) = 0/;
  const runs: { ms: number; prog: string; args: string }[] = [];
  let t0: number | undefined;
  for (const l of lines) {
    const ts = /^\d+\s+(\d\d):(\d\d):(\d\d\.\d+)/.exec(l);
    if (ts && t0 === undefined) t0 = (Number(ts[1]) * 3600 + Number(ts[2]) * 60 + Number(ts[3])) * 1000;
    const m = re.exec(l);
    if (!m) continue;
    const ms = (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000 - (t0 ?? 0);
    runs.push({ ms, prog: path.basename(m[5]!), args: m[6]!.slice(0, 90) });
  }
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.prog, (counts.get(r.prog) ?? 0) + 1);
  const out = [`    programs started: ${runs.length} (${[...counts].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p}×${n}`).join(", ")})`];
  for (const r of runs.slice(0, 40)) out.push(`      +${r.ms.toFixed(0).padStart(6)} ms  ${r.args}`);
  if (runs.length > 40) out.push(`      … ${runs.length - 40} more`);
  return out.join("\n");
}
