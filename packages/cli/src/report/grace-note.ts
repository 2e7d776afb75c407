// What the store's gc grace period kept, said where a user looks for freed space (du,
// prune): without it, "Reclaimable: 0B" next to unreferenced data reads like a bug.

import type { HeldBack } from "@tbuild/cache";
import { humanSize } from "../format/human.js";

/** A grace period as TBUILD_GC_GRACE takes it: "5m", "1h", "90s", "250ms". */
export function graceText(ms: number): string {
  for (const [unit, size] of [["w", 604_800_000], ["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * One paragraph for `held`, or "" when the grace period kept nothing. `command` is the
 * prune command that would free it now.
 */
export function graceNote(held: HeldBack, command = "tbuild prune --all -f"): string {
  if (held.count === 0) return "";
  const items = `${held.count} item${held.count === 1 ? "" : "s"}`;
  return (
    `${humanSize(held.size)} in ${items} held back by the gc grace period (${graceText(held.gracePeriodMs)}): ` +
    `unreferenced data that young may belong to a build still running. It becomes reclaimable once older; ` +
    `to free it now, when no build is running: TBUILD_GC_GRACE=0 ${command}\n`
  );
}
