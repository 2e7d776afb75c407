// A container's output: one JSON line per chunk, {"log", "stream", "time"} as Docker's
// json-file driver writes them, so `logs` can replay stdout and stderr apart and in order.
import { closeSync, createReadStream, openSync, statSync, writeSync } from "node:fs";
import path from "node:path";

export const logPath = (dir: string) => path.join(dir, "container.log");

export class LogWriter {
  private fd: number;
  constructor(dir: string) {
    this.fd = openSync(logPath(dir), "a", 0o640);
  }
  write(stream: "stdout" | "stderr", b: Buffer): void {
    writeSync(this.fd, JSON.stringify({ log: b.toString("utf8"), stream, time: new Date().toISOString() }) + "\n");
  }
  close(): void {
    closeSync(this.fd);
  }
}

export interface LogLine {
  log: string;
  stream: "stdout" | "stderr";
  time: string;
}

/**
 * Replays the log (with `tail`, only its last N chunks); with `follow`, keeps reading as
 * it grows until `follow()` says the container ended (then reads what is left) or `signal`
 * aborts.
 */
export async function readLog(dir: string, sink: (l: LogLine) => void, opts: { tail?: number; follow?: () => Promise<boolean>; signal?: AbortSignal } = {}): Promise<void> {
  const file = logPath(dir);
  let out = sink;
  let pos = 0;
  let rest = "";
  const drain = async () => {
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size <= pos) return;
    for await (const chunk of createReadStream(file, { start: pos, end: size - 1, encoding: "utf8" })) rest += chunk as string;
    pos = size;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const l of lines) {
      if (l.trim() === "") continue;
      try {
        out(JSON.parse(l) as LogLine);
      } catch {
        // a torn line of a crashed writer
      }
    }
  };
  if (opts.tail === undefined) await drain();
  else {
    const first: LogLine[] = [];
    out = (l) => void first.push(l);
    await drain();
    out = sink;
    first.slice(Math.max(0, first.length - opts.tail)).forEach(sink);
  }
  while (opts.follow && !opts.signal?.aborted) {
    const running = await opts.follow();
    await new Promise((r) => setTimeout(r, 100));
    await drain();
    if (!running) break;
  }
}
