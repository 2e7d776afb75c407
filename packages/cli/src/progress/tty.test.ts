import { describe, expect, it } from "vitest";
import type { BuildEvent } from "../builder-api.js";
import { simpleBuild, step } from "./fake-events.test-util.js";
import { TtyRenderer } from "./tty.js";

/** A minimal terminal: enough of ANSI (cursor up, erase line/below, SGR) to replay the renderer. */
class VirtualTerminal {
  lines: string[] = [""];
  row = 0;
  col = 0;
  writes = 0;
  raw = "";
  constructor(readonly columns = 80, readonly rows = 24) {}
  readonly isTTY = true;
  write(s: string): void {
    this.writes++;
    this.raw += s;
    for (let i = 0; i < s.length; ) {
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(s.slice(i, i + 12));
      if (m) {
        const n = Number(m[1] || "0");
        if (m[2] === "A") this.row = Math.max(0, this.row - Math.max(1, n));
        else if (m[2] === "K") this.lines[this.row] = "";
        else if (m[2] === "J") {
          this.lines.length = this.row + 1;
          this.lines[this.row] = this.lines[this.row]!.slice(0, this.col);
        }
        i += m[0].length;
        continue;
      }
      const ch = s[i++]!;
      if (ch === "\r") this.col = 0;
      else if (ch === "\n") {
        this.row++;
        this.col = 0;
        while (this.lines.length <= this.row) this.lines.push("");
      } else {
        const line = this.lines[this.row]!.padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col++;
      }
    }
  }
  screen(): string[] {
    return this.lines.slice(0, this.lines.length - (this.lines.at(-1) === "" ? 1 : 0));
  }
}

function renderer(term: VirtualTerminal, now: () => number) {
  return new TtyRenderer(term, { now, refreshMs: 0, env: { NO_COLOR: "1" } });
}

describe("TtyRenderer", () => {
  it("redraws in place and shows the running step's last output lines", () => {
    const term = new VirtualTerminal(60);
    let now = 1_000_000;
    const r = renderer(term, () => now);
    const evs = simpleBuild();
    for (const ev of evs.slice(0, 5)) r.event(ev); // up to the second log chunk of RUN
    now += 700;
    r.draw(false);
    expect(term.screen()).toEqual([
      "[+] Building 0.7s (1/2)",
      " => CACHED [1/3] FROM base                             0.0s",
      " => [2/3] RUN echo hello && echo world                 0.7s",
      " => => # hello",
    ]);
    for (const ev of evs.slice(5, 7)) r.event(ev); // RUN done
    now += 800;
    r.draw(false);
    expect(term.screen()).toEqual([
      "[+] Building 1.5s (2/2)",
      " => CACHED [1/3] FROM base                             0.0s",
      " => [2/3] RUN echo hello && echo world                 1.3s",
    ]);
  });

  it("shows why a running step missed the cache, and drops the line once it is done", () => {
    const term = new VirtualTerminal(60);
    let now = 1_000_000;
    const r = renderer(term, () => now);
    const evs = simpleBuild();
    const run = (evs[2] as Extract<BuildEvent, { type: "step-start" }>).step;
    for (const ev of evs.slice(0, 3)) r.event(ev);
    r.event({ type: "step-miss", step: run, reason: "ARG VERSION changed", changed: [], time: now + 11 });
    now += 500;
    r.draw(false);
    expect(term.screen()).toContain(" => => # cache miss: ARG VERSION changed");
    for (const ev of evs.slice(3, 7)) r.event(ev);
    r.draw(false);
    expect(term.screen().some((l) => l.includes("cache miss"))).toBe(false);
  });

  it("draws a final frame with every step, the export block and the warnings", () => {
    const term = new VirtualTerminal(60);
    const r = renderer(term, () => 1_000_000 + 5000);
    for (const ev of simpleBuild()) r.event(ev);
    r.draw(false);
    r.buildFinished({ imageId: "sha256:cccc", stored: true, tags: ["app:latest"] });
    r.close();
    expect(term.screen()).toEqual([
      "[+] Building 1.5s (3/3) FINISHED",
      " => CACHED [1/3] FROM base                             0.0s",
      " => [2/3] RUN echo hello && echo world                 1.3s",
      " => [3/3] COPY . /app                                  0.0s",
      " => exporting to image                                 0.1s",
      " => => writing image sha256:cccc done",
      " => => naming to app:latest done",
      " => => writing oci-archive /tmp/x.tar (manifest sha256:bbbb) done",
      " 1 warning found:",
      " - JSONArgsRecommended: JSON arguments recommended for CMD (line 5)",
    ]);
  });

  it("keeps live frames within the terminal height, dropping finished steps first", () => {
    const term = new VirtualTerminal(50, 6);
    const r = renderer(term, () => 10_000);
    const evs: BuildEvent[] = [];
    for (let i = 0; i < 8; i++) {
      const s = step(`s${i}`, { index: i + 1, total: 9, instruction: `RUN step ${i}` });
      evs.push({ type: "step-start", step: s, time: 0 }, { type: "step-done", step: s, durationMs: 100, time: 100 });
    }
    const running = step("run", { index: 9, total: 9, instruction: "RUN long" });
    evs.push({ type: "step-start", step: running, time: 200 });
    evs.push({ type: "step-log", step: running, stream: "stdout", data: "out\n", time: 300 });
    for (const ev of evs) r.event(ev);
    r.draw(false);
    const screen = term.screen();
    expect(screen.length).toBeLessThanOrEqual(5);
    expect(screen[0]).toMatch(/^\[\+\] Building 10\.0s \(8\/9\)$/);
    expect(screen.slice(-2)).toEqual([" => [10/10] RUN long                         9.8s", " => => # out"]);
    r.close();
    expect(term.screen()).toHaveLength(1 + 9 + 1); // the final frame lists every step (and the running one's output)
  });

  it("truncates long lines to the terminal width and colours only when allowed", () => {
    const term = new VirtualTerminal(40);
    const r = new TtyRenderer(term, { now: () => 0, refreshMs: 0, env: { FORCE_COLOR: "1" } });
    r.event({ type: "step-start", step: step("a", { instruction: `RUN ${"x".repeat(100)}` }), time: 0 });
    r.event({ type: "step-error", step: step("a", { instruction: `RUN ${"x".repeat(100)}` }), message: "boom", time: 0 });
    r.close();
    expect(term.raw).toContain("\x1b[31m"); // red for the failed step
    for (const line of term.screen()) expect(line.length).toBeLessThanOrEqual(39);
    expect(term.screen()[1]).toMatch(/^ => ERROR \[2\/4\] RUN x+… +0\.0s$/);
  });

  it("writes nothing between frames when nothing changed and nothing runs", () => {
    const term = new VirtualTerminal();
    const r = renderer(term, () => 0);
    r.event({ type: "step-cached", step: step("a"), time: 0 });
    r.draw(false);
    const writes = term.writes;
    r.draw(false);
    expect(term.writes).toBe(writes);
  });
});
