// The warm workers of the `tbuild` client (packages/cli/src/warm): after tbuild's sequence the
// harness waits until every worker that was started meanwhile is loaded and waiting, so that
// their loading does not fall into a peer's measurements.

import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

/** The user's private directory of tbuild (packages/cli/src/private-dir.ts). */
function privateDir(): string {
  const base = process.env.XDG_RUNTIME_DIR;
  return base ? path.join(base, "tbuild") : `/tmp/tbuild-${process.getuid!()}`;
}

/** Workers started (member.PID, alive) that are not ready yet (no ready.PID), over every pool. */
function pending(): number {
  const dir = privateDir();
  let n = 0;
  let pools: string[];
  try {
    pools = readdirSync(dir).filter((d) => d.endsWith(".sock.d"));
  } catch {
    return 0;
  }
  for (const pool of pools) {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, pool));
    } catch {
      continue;
    }
    const ready = new Set(names.filter((x) => x.startsWith("ready.")).map((x) => x.slice(6)));
    for (const m of names.filter((x) => x.startsWith("member."))) {
      const pid = m.slice(7);
      if (!ready.has(pid) && existsSync(`/proc/${pid}`)) n++;
    }
  }
  return n;
}

/** Waits (at most `maxMs`) until no worker is starting or loading. */
export async function warmPoolSettled(maxMs = 15_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (pending() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

/** The peak RSS a warm worker reported for the command (TBUILD_WARM_DEBUG=1), in KiB. */
export function workerPeakRssKb(output: string): number | undefined {
  const m = /tbuild: ran in warm worker \d+ \(peak RSS (\d+) KB\)/.exec(output);
  return m ? Number(m[1]) : undefined;
}
