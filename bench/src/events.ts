// Phases of one tbuild build from its `--progress rawjson` events and the harness's own
// spawn/exit times (same clock): start-up (process spawn → build-start: node, module
// loading, store open, Dockerfile parse), solve (build-start → build-done), exit
// (build-done → process gone: flushing, closing, teardown), and the slowest step.

export interface BuildPhases {
  startupMs: number;
  solveMs: number;
  exitMs: number;
  /** The step that took longest, by its own duration (or start → cached). */
  slowest?: { instruction: string; ms: number; cached: boolean };
  steps: { instruction: string; startMs: number; endMs: number; cached: boolean }[];
}

interface RawEvent {
  type: string;
  time?: number;
  step?: { id: string; instruction: string };
}

/** Parses the JSON lines of a rawjson build; undefined if there is no build-start/done. */
export function buildPhases(output: string, spawnMs: number, exitMs: number): BuildPhases | undefined {
  let start: number | undefined;
  let done: number | undefined;
  const open = new Map<string, { instruction: string; startMs: number }>();
  const steps: BuildPhases["steps"] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    let ev: RawEvent;
    try {
      ev = JSON.parse(line) as RawEvent;
    } catch {
      continue;
    }
    if (typeof ev.time !== "number") continue;
    if (ev.type === "build-start") start = ev.time;
    else if (ev.type === "build-done") done = ev.time;
    else if (ev.type === "step-start" && ev.step) open.set(ev.step.id, { instruction: ev.step.instruction, startMs: ev.time });
    else if ((ev.type === "step-done" || ev.type === "step-cached") && ev.step) {
      const s = open.get(ev.step.id);
      if (s) steps.push({ instruction: s.instruction, startMs: s.startMs, endMs: ev.time, cached: ev.type === "step-cached" });
    }
  }
  if (start === undefined || done === undefined) return undefined;
  let slowest: BuildPhases["slowest"];
  for (const s of steps) {
    const ms = s.endMs - s.startMs;
    if (!slowest || ms > slowest.ms) slowest = { instruction: s.instruction, ms, cached: s.cached };
  }
  return { startupMs: start - spawnMs, solveMs: done - start, exitMs: exitMs - done, slowest, steps };
}

/** One-line summary for the TSV and the console. */
export function phasesNote(p: BuildPhases | undefined): string {
  if (!p) return "";
  const slow = p.slowest ? ` slowest=${p.slowest.ms}ms:${p.slowest.instruction.slice(0, 40).replace(/\s+/g, " ")}` : "";
  return `startup=${p.startupMs}ms solve=${p.solveMs}ms exit=${p.exitMs}ms${slow}`;
}
