// Step output arrives in arbitrary chunks; progress shows whole lines. This keeps the
// unfinished tail of each stream until its newline (or the step's end) arrives.

/** Splits chunked output into lines, one pending tail per key (step id + stream). */
export class LineSplitter {
  private readonly tails = new Map<string, string>();

  /** Adds a chunk and returns the lines it completes (without their newlines). */
  push(key: string, chunk: string): string[] {
    const text = (this.tails.get(key) ?? "") + chunk.replace(/\r\n/g, "\n");
    const parts = text.split("\n");
    const tail = parts.pop()!;
    if (tail === "") this.tails.delete(key);
    else this.tails.set(key, tail);
    // A bare \r (progress bars) rewrites the line: keep what was drawn last.
    return parts.map(lastCarriageSegment);
  }

  /** Returns and forgets the unfinished line of `key`, if any. */
  flush(key: string): string | undefined {
    const tail = this.tails.get(key);
    this.tails.delete(key);
    return tail === undefined ? undefined : lastCarriageSegment(tail);
  }
}

function lastCarriageSegment(line: string): string {
  if (!line.includes("\r")) return line;
  const segs = line.split("\r").filter((s) => s !== "");
  return segs[segs.length - 1] ?? "";
}
