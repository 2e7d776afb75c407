// Writes a tar archive of documents and streamed blobs (oci-archive, docker-archive), with
// backpressure, deterministic headers (mtime 0, root-owned, fixed modes) and content lengths
// checked against what each header announced.
import type { Readable, Writable } from "node:stream";
import { OciError } from "../errors.js";
import { encodeHeader, END_OF_ARCHIVE, padding } from "./header.js";

export class ArchiveWriter {
  private failure: Error | undefined;
  private readonly dirs = new Set<string>();

  constructor(private readonly out: Writable) {
    out.on("error", (e) => (this.failure ??= e));
  }

  private async write(b: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.write(b)) return;
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        this.out.off("drain", onDrain);
        this.out.off("error", onError);
        this.out.off("close", onClose);
      };
      const onDrain = (): void => (cleanup(), resolve());
      const onError = (e: Error): void => (cleanup(), reject(e));
      const onClose = (): void => (cleanup(), reject(this.failure ?? new OciError("TRUNCATED", "the archive output was closed early.")));
      this.out.on("drain", onDrain).on("error", onError).on("close", onClose);
    });
  }

  /** Adds a directory entry (once per path). */
  async dir(name: string): Promise<void> {
    if (this.dirs.has(name)) return;
    this.dirs.add(name);
    await this.write(encodeHeader({ name, type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 }));
  }

  /** Adds a regular file with in-memory content. */
  async file(name: string, content: Buffer): Promise<void> {
    await this.write(encodeHeader({ name, type: "file", mode: 0o644, uid: 0, gid: 0, size: content.length, mtime: 0 }));
    if (content.length > 0) await this.write(content);
    const pad = padding(content.length);
    if (pad > 0) await this.write(END_OF_ARCHIVE.subarray(0, pad));
  }

  /** Adds a regular file streamed from `content`, which must deliver exactly `size` bytes. */
  async stream(name: string, size: number, content: Readable): Promise<void> {
    await this.write(encodeHeader({ name, type: "file", mode: 0o644, uid: 0, gid: 0, size, mtime: 0 }));
    let seen = 0;
    try {
      for await (const chunk of content) {
        const b = chunk as Buffer;
        seen += b.length;
        if (seen > size) throw new OciError("SIZE_MISMATCH", `${name}: the blob is longer than its ${size} bytes.`);
        await this.write(b);
      }
    } finally {
      content.destroy();
    }
    if (seen < size) throw new OciError("TRUNCATED", `${name}: the blob ended after ${seen} of ${size} bytes.`);
    const pad = padding(size);
    if (pad > 0) await this.write(END_OF_ARCHIVE.subarray(0, pad));
  }

  /** Writes the end-of-archive marker and ends the output; resolves once it is flushed. */
  async finish(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    await new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.out.once("error", reject);
      this.out.end(() => resolve());
    });
  }
}
