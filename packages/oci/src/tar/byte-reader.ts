// Pull-style reading of exact byte counts from an async iterable of chunks, without
// concatenating large data: headers are assembled from at most a few chunks, content is
// handed out as sub-slices of the chunks that arrived.

export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private done = false;
  /** Bytes consumed so far (offset of the next byte). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      const v = r.value;
      this.chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.pos = 0;
    }
    return true;
  }

  /** Reads exactly n bytes, or returns the shorter remainder when the source ends first. */
  async read(n: number): Promise<Buffer> {
    if (!(await this.fill())) return Buffer.alloc(0);
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0 && (await this.fill())) {
      const take = Math.min(need, this.chunk.length - this.pos);
      parts.push(this.chunk.subarray(this.pos, this.pos + take));
      this.pos += take;
      this.offset += take;
      need -= take;
    }
    return Buffer.concat(parts);
  }

  /** Yields up to n bytes as slices of the incoming chunks; stops early if the source ends. */
  async *slices(n: number): AsyncGenerator<Buffer> {
    let need = n;
    while (need > 0 && (await this.fill())) {
      const take = Math.min(need, this.chunk.length - this.pos);
      const out = this.chunk.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.offset += take;
      need -= take;
      yield out;
    }
  }

  /** Skips n bytes; returns how many were actually skipped. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const take = Math.min(n - skipped, this.chunk.length - this.pos);
      this.pos += take;
      this.offset += take;
      skipped += take;
    }
    return skipped;
  }

  /** Consumes everything left; returns the number of bytes and whether any was non-zero. */
  async drain(): Promise<{ bytes: number; nonZero: boolean }> {
    let bytes = 0;
    let nonZero = false;
    while (await this.fill()) {
      const rest = this.chunk.subarray(this.pos);
      if (!nonZero && rest.some((b) => b !== 0)) nonZero = true;
      bytes += rest.length;
      this.offset += rest.length;
      this.pos = this.chunk.length;
    }
    return { bytes, nonZero };
  }
}
