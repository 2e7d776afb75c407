// Raw samples, one per timed command, appended to a TSV (one invocation = one session).

import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { BuildPhases } from "./events.js";
import type { Figure } from "./figures.js";

export interface Sample {
  engine: string;
  workload: string;
  figure: Figure;
  run: number;
  seconds: number;
  maxRssKb: number;
  load: number;
  ok: boolean;
  /** tbuild build phases, failure reason, or the export format. */
  note: string;
  /** tbuild builds: start-up / solve / exit split from the rawjson events. */
  phases?: BuildPhases;
}

const HEADER = ["session", "engine", "workload", "figure", "run", "seconds", "maxrss_kb", "load1", "status", "note"];

/** Appends samples to the TSV file, writing the header first if the file is new. */
export class ResultsFile {
  readonly #file: string;
  readonly #session: string;

  constructor(file: string, session: string) {
    this.#file = file;
    this.#session = session;
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file)) appendFileSync(file, `${HEADER.join("\t")}\n`);
  }

  add(s: Sample): void {
    const cells = [
      this.#session, s.engine, s.workload, s.figure, String(s.run), s.seconds.toFixed(3),
      Number.isFinite(s.maxRssKb) ? String(s.maxRssKb) : "", s.load.toFixed(2), s.ok ? "ok" : "FAILED",
      s.note.replace(/[\t\n]/g, " "),
    ];
    appendFileSync(this.#file, `${cells.join("\t")}\n`);
  }
}
