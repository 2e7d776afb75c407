// `--progress tty`: a live view in BuildKit's spirit, redrawn in place ~10 times a
// second with ANSI cursor movement:
//
//   [+] Building 4.2s (3/5)
//    => CACHED [1/4] FROM base                                        0.0s
//    => [2/4] RUN make                                                3.1s
//    => => # cc -o app main.c
//
// The live frame is kept within the terminal's height (lines that scrolled away
// could not be redrawn); the final frame, drawn once at close, lists every step.

import { Chalk, type ChalkInstance } from "chalk";
import type { BuildEvent } from "../builder-api.js";
import { colorLevel } from "./colors.js";
import { formatSeconds } from "./labels.js";
import type { FinishedBuild, ProgressRenderer, ProgressStream, RendererOptions } from "./renderer.js";
import { exportSummary, ProgressState, type Vertex } from "./state.js";

interface Entry {
  lines: string[];
  active: boolean;
}

interface ExportBlock {
  source?: string;
  title: string;
  lines: string[];
  duration: number;
}

export class TtyRenderer implements ProgressRenderer {
  private readonly state = new ProgressState(6);
  private readonly chalk: ChalkInstance;
  private readonly now: () => number;
  private readonly timer?: NodeJS.Timeout;
  private readonly blocks: ExportBlock[] = [];
  private height = 0;
  private dirty = false;
  private closed = false;

  constructor(private readonly out: ProgressStream, opts: RendererOptions = {}) {
    this.chalk = new Chalk({ level: colorLevel(out, opts.env) });
    this.now = opts.now ?? Date.now;
    const refresh = opts.refreshMs ?? 100;
    if (refresh > 0) {
      this.timer = setInterval(() => this.draw(false), refresh);
      this.timer.unref();
    }
  }

  event(ev: BuildEvent, source?: string): void {
    this.state.apply(ev, source);
    this.dirty = true;
  }

  buildFinished(info: FinishedBuild): void {
    const { title, lines, start, end } = exportSummary(this.state, info);
    if (lines.length > 0) this.blocks.push({ source: info.source, title, lines, duration: end - start });
    this.dirty = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    const { warnings } = this.state;
    if (warnings.length === 0) return;
    const c = this.chalk;
    this.out.write(`${c.yellow(` ${warnings.length} warning${warnings.length === 1 ? "" : "s"} found:`)}\n`);
    for (const w of warnings) {
      const where = w.line !== undefined ? ` (line ${w.line})` : "";
      const who = w.source ? `[${w.source}] ` : "";
      this.out.write(`${c.yellow(` - ${who}${w.rule ? `${w.rule}: ` : ""}${w.message}${where}`)}\n`);
    }
  }

  /** Redraws the frame in place. Live frames are skipped when nothing changed and nothing runs. */
  draw(final: boolean): void {
    const vertices = this.state.ordered();
    if (!final && !this.dirty && !vertices.some((v) => v.status === "running")) return;
    this.dirty = false;
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const entries = this.frame(vertices, width, final);
    const lines = final ? entries.flatMap((e) => e.lines) : this.fitHeight(entries, Math.max(2, (this.out.rows || 24) - 1));
    let s = this.height > 0 ? `\x1b[${this.height}A` : "";
    for (const line of lines) s += `\r\x1b[2K${line}\n`;
    s += "\x1b[J";
    this.out.write(s);
    this.height = lines.length;
  }

  private frame(vertices: Vertex[], width: number, final: boolean): Entry[] {
    const c = this.chalk;
    const now = this.now();
    const doneCount = vertices.filter((v) => v.status !== "running").length;
    const ends = [...vertices.map((v) => v.ended ?? now), ...this.state.finished.values()];
    const elapsed = (final ? Math.max(this.state.started ?? now, ...ends) : now) - (this.state.started ?? now);
    const title = `[+] Building ${formatSeconds(elapsed)} (${doneCount}/${vertices.length})${final ? " FINISHED" : ""}`;
    const entries: Entry[] = [{ lines: [c.bold(title)], active: true }];
    for (const v of vertices) {
      const running = v.status === "running";
      const duration = formatSeconds((v.ended ?? now) - v.started);
      const prefix = v.status === "cached" ? "CACHED " : v.status === "error" ? "ERROR " : "";
      const text = fitLine(` => ${prefix}${v.label}`, duration, width);
      const colour = v.status === "error" ? c.red : running ? (s: string) => s : c.blue;
      const lines = [colour(text)];
      // Why it runs, while it runs (BuildKit has no such line; plain prints it too).
      if (running && v.missReason) lines.push(c.dim(truncate(` => => # cache miss: ${v.missReason}`, width)));
      if (running || (final && v.status === "error")) {
        for (const l of v.logs) lines.push(c.dim(truncate(` => => # ${l.text}`, width)));
      }
      entries.push({ lines, active: running });
    }
    for (const b of this.blocks) {
      const name = b.source ? `[${b.source}] ${b.title}` : b.title;
      const lines = [c.blue(fitLine(` => ${name}`, formatSeconds(b.duration), width))];
      // The final frame is never redrawn, so its long lines (digests) may wrap.
      for (const l of b.lines) lines.push(c.blue(final ? ` => => ${l}` : truncate(` => => ${l}`, width)));
      entries.push({ lines, active: false });
    }
    return entries;
  }

  /** Keeps the frame within `max` lines: drops finished steps first, oldest first. */
  private fitHeight(entries: Entry[], max: number): string[] {
    const kept = [...entries];
    let total = kept.reduce((n, e) => n + e.lines.length, 0);
    for (let i = 1; i < kept.length && total > max; ) {
      if (kept[i]!.active) { i++; continue; }
      total -= kept[i]!.lines.length;
      kept.splice(i, 1);
    }
    const flat = kept.flatMap((e) => e.lines);
    return flat.length <= max ? flat : [flat[0]!, ...flat.slice(flat.length - (max - 1))];
  }
}

/** Pads `left` so that `right` ends at column `width`, truncating `left` if needed. */
function fitLine(left: string, right: string, width: number): string {
  const room = width - right.length - 1;
  const l = truncate(left, room);
  return `${l}${" ".repeat(Math.max(1, width - l.length - right.length))}${right}`;
}

function truncate(s: string, width: number): string {
  const chars = [...s.replace(/\t/g, "    ").replace(/[\x00-\x1f\x7f]/g, "")];
  return chars.length <= width ? chars.join("") : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}
