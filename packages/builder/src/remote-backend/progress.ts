// Control.Status → tbuild's build events. Each step that has a vertex starts, is cached or
// done, logs and fails as its vertex does; the steps without one (metadata instructions,
// FROM another stage or scratch) are reported as soon as the step before them in their
// stage has finished, so the event stream reads in Dockerfile order as a local build's does.
import type { control } from "@tbuild/llb";
import type { BuildEvent, StepRef, StepResult, StepStatus } from "../api-types.js";
import type { StepVertex } from "./convert/types.js";

interface Tracked {
  sv: StepVertex;
  started?: number;
  finished: boolean;
  /** Last output lines, for the error of a failed RUN. */
  tail: string;
  /** Some update reported the vertex cached. */
  cached?: boolean;
}

export class RemoteProgress {
  private readonly byDigest = new Map<string, Tracked[]>();
  /** Tracked steps per stage (and target platform, in a multi-platform build). */
  private readonly byStage = new Map<string, Tracked[]>();
  private readonly results = new Map<string, StepResult>();
  /** Vertices that reported transfer progress (an image source that pulled layers). */
  private readonly transferred = new Set<string>();
  /** The step whose vertex reported an error first. */
  failed?: { step: StepRef; argv?: string[]; error: string; tail: string[] };

  constructor(steps: StepVertex[], digestOf: (sv: StepVertex) => string | undefined, private readonly emit: (e: BuildEvent) => void) {
    for (const sv of steps) {
      const t: Tracked = { sv, finished: false, tail: "" };
      const d = digestOf(sv);
      // Equal ops are one vertex: two stages FROM the same image share their source.
      if (d) this.byDigest.set(d, [...(this.byDigest.get(d) ?? []), t]);
      const list = this.byStage.get(stageKey(sv.step)) ?? [];
      list.push(t);
      this.byStage.set(stageKey(sv.step), list);
    }
  }

  /** Reports what needs no daemon before the solve starts. */
  begin(): void {
    for (const list of this.byStage.values()) this.flush(list);
  }

  update(s: control.StatusResponse): void {
    const now = Date.now();
    for (const st of s.statuses) this.transferred.add(st.vertex);
    for (const v of s.vertexes) for (const t of this.byDigest.get(v.digest) ?? []) {
      if (t.finished) continue;
      // A vertex reported cached once is a cache hit: one loaded from an imported cache is then
      // reported again, started and completed without the flag, while its layers are fetched
      // (BuildKit v0.32, --cache-from type=local), before its last update says cached again.
      if (v.cached) t.cached = true;
      if (t.started === undefined && (v.started || v.completed || v.cached)) {
        t.started = now;
        this.emit({ type: "step-start", step: t.sv.step, time: now });
      }
      if (v.error) {
        t.finished = true;
        this.failed ??= { step: t.sv.step, ...(t.sv.argv ? { argv: t.sv.argv } : {}), error: v.error, tail: lines(t.tail) };
        this.emit({ type: "step-error", step: t.sv.step, message: v.error, time: now });
        continue;
      }
      if (v.completed) {
        t.finished = true;
        const ms = now - (t.started ?? now);
        // FROM does work only when it pulls (transfer statuses); a base at hand is cached, as
        // for a local build.
        const atHand = t.sv.step.index === 0 && !this.transferred.has(v.digest);
        const cached = t.cached === true;
        if (cached) this.emit({ type: "step-cached", step: t.sv.step, time: now });
        else this.emit({ type: "step-done", step: t.sv.step, status: atHand ? "cached" : "ran", durationMs: ms, time: now });
        this.record(t.sv.step, cached || atHand ? "cached" : "ran", ms);
        this.flush(this.byStage.get(stageKey(t.sv.step))!);
      }
    }
    for (const l of s.logs) {
      const t = this.byDigest.get(l.vertex)?.[0];
      if (!t) continue;
      const data = Buffer.from(l.msg).toString("utf8");
      t.tail = (t.tail + data).slice(-8192);
      this.emit({ type: "step-log", step: t.sv.step, stream: l.stream === 2n ? "stderr" : "stdout", data, time: now });
    }
  }

  /** Every step's result in Dockerfile order (BuildResult.steps). */
  stepResults(): StepResult[] {
    return [...this.results.values()].sort((a, b) => a.step.stageIndex - b.step.stageIndex || a.step.index - b.step.index);
  }

  /** Reports the steps without a vertex that follow the finished steps of a stage. */
  private flush(list: Tracked[]): void {
    for (const t of list) {
      if (t.finished) continue;
      if (t.sv.vertex) return;
      t.finished = true;
      const now = Date.now();
      // FROM another stage or scratch is at hand, as for a local build; the rest is metadata.
      const status: StepStatus = t.sv.step.index === 0 ? "cached" : "metadata";
      this.emit({ type: "step-start", step: t.sv.step, time: now });
      this.emit({ type: "step-done", step: t.sv.step, status, durationMs: 0, time: now });
      this.record(t.sv.step, status, 0);
    }
  }

  private record(step: StepRef, status: StepStatus, durationMs: number): void {
    const list = this.byStage.get(stageKey(step)) ?? [];
    // A metadata step is the last build's when everything before it in its stage was cached.
    const cached = status === "cached" || (status === "metadata" && list.every((t) => t.sv.step.index >= step.index || this.results.get(t.sv.step.id)?.cached !== false));
    this.results.set(step.id, { step, status, cached, durationMs });
  }
}

function stageKey(step: StepRef): string {
  return `${step.platform ?? ""} ${step.stageIndex}`;
}

function lines(text: string, n = 20): string[] {
  return text.replace(/\n$/, "").split("\n").slice(-n);
}
