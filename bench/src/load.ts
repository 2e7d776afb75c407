// The machine is shared: figures taken under load are not comparable. The harness
// records the 1-minute load average with every run and, before each engine's sequence,
// waits (up to a limit) for it to drop below a threshold.

import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/**
 * Waits until the load average is below `max` or `maxWaitS` seconds have passed.
 * Returns the load when it stopped waiting and whether it got quiet.
 */
export async function waitForQuiet(max: number, maxWaitS: number, say: (msg: string) => void): Promise<{ load: number; quiet: boolean }> {
  const deadline = Date.now() + maxWaitS * 1000;
  let load = loadAverage();
  if (load < max) return { load, quiet: true };
  say(`load average ${load.toFixed(2)} ≥ ${max}; waiting up to ${maxWaitS} s for the machine to get quiet`);
  while (Date.now() < deadline) {
    await sleep(5000);
    load = loadAverage();
    if (load < max) return { load, quiet: true };
  }
  say(`still loaded (${load.toFixed(2)}); measuring anyway, the rows say so`);
  return { load, quiet: false };
}
