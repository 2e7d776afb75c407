// A streaming tar reader (ustar, PAX, GNU long names, base-256 numbers).
//
// Why not tar-stream's extract: tar-stream 3 decodes PAX records as UTF-8 text, which
// corrupts binary `SCHILY.xattr.security.capability` values, and it ignores PAX uid/gid/mtime.
// Reading needs byte-exact PAX values, so the reader is ours too; tar-stream remains a
// dependency for tests, where an independent writer makes hostile archives.
import { OciError } from "../errors.js";
import { ByteReader } from "./byte-reader.js";
import { HeaderDecoder } from "./decode.js";
import { BLOCK, padding, type TarHeader } from "./header.js";

/** A tar entry: its header and its content. Consume `body` fully before asking for the next entry. */
export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

/**
 * Reads a tar stream entry by entry. Every byte of `source` is consumed, including padding
 * after the end-of-archive marker, so a hash computed over the source covers the whole blob.
 * Throws INVALID_TAR for malformed headers and TRUNCATED when the stream ends early
 * (including a missing end-of-archive marker).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  const dec = new HeaderDecoder();
  for (;;) {
    const block = await r.read(BLOCK);
    if (block.length < BLOCK) {
      throw new OciError("TRUNCATED", `tar stream ended after ${r.offset} bytes without an end-of-archive marker (after entry ${JSON.stringify(dec.last)}); the layer is truncated.`);
    }
    const d = dec.block(block, r.offset - BLOCK);
    if (d.kind === "end") {
      await r.read(BLOCK); // the second zero block; tolerated if missing (GNU tar does)
      await r.drain();
      return;
    }
    if (d.kind === "meta") {
      const data = await r.read(d.size);
      if (data.length < d.size) throw new OciError("TRUNCATED", `tar stream ended inside an extended header (after entry ${JSON.stringify(dec.last)}).`);
      await r.skip(padding(d.size));
      dec.meta(d.flag, data);
      continue;
    }
    const { header, bodySize } = d;
    const isFile = header.type === "file";
    let consumed = 0;
    const body = (async function* () {
      for await (const s of r.slices(bodySize - consumed)) {
        consumed += s.length;
        if (isFile) yield s;
      }
    })();
    yield { header, body };
    // Skip whatever the consumer did not read, then the padding.
    for await (const s of r.slices(bodySize - consumed)) consumed += s.length;
    if (consumed < bodySize) {
      throw new OciError("TRUNCATED", `tar stream ended inside the content of ${JSON.stringify(header.name)} (${consumed} of ${bodySize} bytes); the layer is truncated.`);
    }
    const pad = padding(bodySize);
    if ((await r.skip(pad)) < pad) {
      throw new OciError("TRUNCATED", `tar stream ended in the padding after ${JSON.stringify(header.name)}; the layer is truncated.`);
    }
  }
}
