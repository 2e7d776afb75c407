// What every renderer needs to know about the builds in flight: the steps seen so
// far (numbered in order of first appearance, as BuildKit numbers its vertices),
// their status and timing, the tail of their output, the warnings, and the exports.
// Several builds may feed one state (compose); `source` keeps them apart.

import type { BuildEvent, OutputSpec, StepRef } from "../builder-api.js";
import { LineSplitter } from "./line-splitter.js";
import { describeExport, exportTitle, stepLabel } from "./labels.js";

export type VertexStatus = "running" | "cached" | "done" | "error";

/** A step as shown on screen. */
export interface Vertex {
  key: string;
  /** 1-based, in order of first appearance across all sources. */
  number: number;
  source?: string;
  step: StepRef;
  label: string;
  status: VertexStatus;
  started: number;
  ended?: number;
  /** Last complete output lines (at most `logTail`), with the time each arrived. */
  logs: { time: number; text: string }[];
  error?: string;
  /** Why a layer step missed the cache (its `step-miss` event). */
  missReason?: string;
}

export interface Warning {
  source?: string;
  message: string;
  line?: number;
  rule?: string;
}

export interface ExportRecord {
  source?: string;
  output: OutputSpec;
  digest: string;
  time: number;
}

/** Tracks builds from their events; renderers read it and decide what to draw. */
export class ProgressState {
  readonly vertices = new Map<string, Vertex>();
  readonly warnings: Warning[] = [];
  readonly exports: ExportRecord[] = [];
  /** First event time across all sources: the start of "Building 3.2s". */
  started?: number;
  /** Time of each source's build-done event. */
  readonly finished = new Map<string, number>();
  private readonly stageCounts = new Map<string, number>();
  private readonly lines = new LineSplitter();

  constructor(private readonly logTail = 6) {}

  /** Applies one event; returns the vertex it touched and the output lines it completed. */
  apply(ev: BuildEvent, source?: string): { vertex?: Vertex; lines: string[] } {
    this.started ??= ev.time;
    switch (ev.type) {
      case "build-start":
        this.stageCounts.set(source ?? "", ev.stages.length);
        return { lines: [] };
      case "step-start": {
        const v = this.vertexFor(ev.step, source, ev.time);
        v.status = "running";
        v.started = ev.time;
        return { vertex: v, lines: [] };
      }
      case "step-cached": {
        const v = this.vertexFor(ev.step, source, ev.time);
        v.status = "cached";
        v.ended = ev.time;
        return { vertex: v, lines: [] };
      }
      case "step-miss": {
        const v = this.vertexFor(ev.step, source, ev.time);
        v.missReason = ev.reason;
        return { vertex: v, lines: [] };
      }
      case "step-log": {
        const v = this.vertexFor(ev.step, source, ev.time);
        const lines = this.lines.push(`${v.key}\0${ev.stream}`, ev.data);
        this.remember(v, lines, ev.time);
        return { vertex: v, lines };
      }
      case "step-done":
      case "step-error": {
        const v = this.vertexFor(ev.step, source, ev.time);
        const lines = this.flushTails(v, ev.time);
        if (ev.type === "step-done") {
          v.status = "done";
          v.ended = v.started + ev.durationMs;
        } else {
          v.status = "error";
          v.ended = ev.time;
          v.error = ev.message;
        }
        return { vertex: v, lines };
      }
      case "warning":
        this.warnings.push({ source, message: ev.message, line: ev.line, rule: ev.rule });
        return { lines: [] };
      case "export":
        this.exports.push({ source, output: ev.output, digest: ev.digest, time: ev.time });
        return { lines: [] };
      case "build-done":
        this.finished.set(source ?? "", ev.time);
        return { lines: [] };
      case "build-error": // the CLI reports the failure from the rejected result
        return { lines: [] };
    }
  }

  /** Steps in order of first appearance. */
  ordered(): Vertex[] {
    return [...this.vertices.values()];
  }

  /** Reserves the next vertex number for a non-step entry (e.g. "exporting to image"). */
  nextNumber(): number {
    return ++this.counter;
  }
  private counter = 0;

  private vertexFor(step: StepRef, source: string | undefined, time: number): Vertex {
    const key = `${source ?? ""}\0${step.id}`;
    let v = this.vertices.get(key);
    if (!v) {
      const label = stepLabel(step, this.stageCounts.get(source ?? "") ?? 1, source);
      v = { key, number: this.nextNumber(), source, step, label, status: "running", started: time, logs: [] };
      this.vertices.set(key, v);
    }
    return v;
  }

  private flushTails(v: Vertex, time: number): string[] {
    const lines: string[] = [];
    for (const stream of ["stdout", "stderr"]) {
      const tail = this.lines.flush(`${v.key}\0${stream}`);
      if (tail !== undefined) lines.push(tail);
    }
    this.remember(v, lines, time);
    return lines;
  }

  private remember(v: Vertex, lines: string[], time: number): void {
    for (const text of lines) v.logs.push({ time, text });
    if (v.logs.length > this.logTail) v.logs.splice(0, v.logs.length - this.logTail);
  }
}

/** The lines of a build's "exporting to image" block, and the time span they cover. */
export function exportSummary(state: ProgressState, info: FinishedBuild): { title: string; lines: string[]; start: number; end: number } {
  const records = state.exports.filter((r) => r.source === info.source);
  const lines: string[] = [];
  if (info.stored) {
    lines.push(`writing image ${info.imageId} done`);
    for (const tag of info.tags) lines.push(`naming to ${tag} done`);
  }
  for (const r of records) if (r.output.type !== "store") lines.push(describeExport(r.output, r.digest));
  const end = state.finished.get(info.source ?? "") ?? records.at(-1)?.time ?? state.started ?? 0;
  const start = records[0]?.time ?? end;
  const types = [...(info.stored ? (["store"] as const) : []), ...records.map((r) => r.output.type)];
  return { title: exportTitle(types), lines, start: Math.min(start, end), end };
}

/** What the CLI tells a renderer once a build's result is in. */
export interface FinishedBuild {
  source?: string;
  /** The image ID (config digest). */
  imageId: string;
  /** Whether the image went into the local store (then `tags` are the names it got there). */
  stored: boolean;
  /** Tags, already normalised for display (docker.io/library/foo:latest). */
  tags: readonly string[];
}
