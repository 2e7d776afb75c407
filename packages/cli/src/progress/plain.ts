// `--progress plain`: BuildKit's plain log, for CI and pipes.
//
//   #3 [2/4] RUN make
//   #3 0.231 cc -o app main.c
//   #3 DONE 1.2s
//
//   #4 [3/4] COPY . .
//   #4 CACHED
//
//   #5 [4/4] RUN make install
//   #5 cache miss: parent changed (step 3)
//
// Every line carries its step number so interleaved output of parallel stages stays
// readable; when output switches to another step, that step's header is repeated.

import type { BuildEvent } from "../builder-api.js";
import { formatSeconds } from "./labels.js";
import type { FinishedBuild, ProgressRenderer, ProgressStream } from "./renderer.js";
import { exportSummary, ProgressState, type Vertex } from "./state.js";

export class PlainRenderer implements ProgressRenderer {
  private readonly state = new ProgressState();
  private current?: string;
  private printedAny = false;
  private closed = false;

  constructor(private readonly out: ProgressStream) {}

  event(ev: BuildEvent, source?: string): void {
    const { vertex, lines } = this.state.apply(ev, source);
    if (!vertex) return;
    switch (ev.type) {
      case "step-start":
        this.header(vertex, true);
        break;
      case "step-cached":
        this.header(vertex, false);
        this.line(vertex, "CACHED");
        break;
      case "step-miss":
        this.header(vertex, false);
        this.line(vertex, `cache miss: ${ev.reason}`);
        break;
      case "step-log":
        this.logLines(vertex, lines, ev.time);
        break;
      case "step-done":
        this.logLines(vertex, lines, ev.time);
        this.header(vertex, false);
        this.line(vertex, `DONE ${formatSeconds(ev.durationMs)}`);
        break;
      case "step-error":
        this.logLines(vertex, lines, ev.time);
        this.header(vertex, false);
        this.line(vertex, `ERROR: ${ev.message.replace(/\n/g, " ")}`);
        break;
    }
  }

  buildFinished(info: FinishedBuild): void {
    const { title, lines, start, end } = exportSummary(this.state, info);
    if (lines.length === 0) return;
    const n = this.state.nextNumber();
    const name = info.source ? `[${info.source}] ${title}` : title;
    this.write(`${this.printedAny ? "\n" : ""}#${n} ${name}\n`);
    for (const l of lines) this.write(`#${n} ${l}\n`);
    this.write(`#${n} DONE ${formatSeconds(end - start)}\n`);
    this.current = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { warnings } = this.state;
    if (warnings.length === 0) return;
    this.write(`\n${warnings.length} warning${warnings.length === 1 ? "" : "s"} found:\n`);
    for (const w of warnings) {
      const where = w.line !== undefined ? ` (line ${w.line})` : "";
      const who = w.source ? `[${w.source}] ` : "";
      this.write(` - ${who}${w.rule ? `${w.rule}: ` : ""}${w.message}${where}\n`);
    }
  }

  /** Prints `#N label` when output moves to this vertex (or always, for `force`). */
  private header(v: Vertex, force: boolean): void {
    if (!force && this.current === v.key) return;
    this.write(`${this.printedAny ? "\n" : ""}#${v.number} ${v.label}\n`);
    this.current = v.key;
  }

  private logLines(v: Vertex, lines: string[], time: number): void {
    if (lines.length === 0) return;
    this.header(v, false);
    const at = ((time - v.started) / 1000).toFixed(3);
    for (const l of lines) this.line(v, `${at} ${l}`);
  }

  private line(v: Vertex, text: string): void {
    this.write(`#${v.number} ${text}\n`);
  }

  private write(s: string): void {
    this.printedAny = true;
    this.out.write(s);
  }
}
