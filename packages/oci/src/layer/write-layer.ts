// writeLayer: source dir → tar (→ compressed) bytes, hashed in the same pass.
import { destroyWithError } from "../util/destroy.js";
import { WriteStream } from "node:fs";
import type { Duplex, Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { Gzip } from "node:zlib";
import { DigestTap, Hasher } from "../digest.js";
import type { Compression, Digest } from "../types.js";
import { ProcessFilter } from "../util/process-filter.js";
import { createCompressor } from "./compression.js";
import type { LayerSource } from "./source.js";
import { layerTar } from "./tar-chunks.js";

/** Options of writeLayer. */
export interface WriteLayerOptions {
  /** Clamp mtimes to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Compress the blob written to `out` (default "none": `out` receives the plain tar). */
  compression?: Compression;
  /** Compression level (gzip 1–9, zstd 1–19). */
  compressionLevel?: number;
}

/** What writeLayer produced. */
export interface WriteLayerResult {
  /** sha256 of the uncompressed tar (goes into the image config's rootfs.diff_ids). */
  diffID: Digest;
  /** Length of the uncompressed tar. */
  size: number;
  /** sha256 of the bytes written to `out`, when compressing. */
  digest?: Digest;
  /** Length of the bytes written to `out`, when compressing. */
  compressedSize?: number;
}

/**
 * Writables known to be done with a chunk when they call its write callback (they write it to
 * a file, a pipe or zlib and keep no reference), so the chunk's memory can be reused. A
 * PassThrough, for example, keeps chunks after the callback, so others get fresh memory.
 */
function releasesChunks(w: Writable): boolean {
  return w instanceof WriteStream || w instanceof Gzip || w instanceof ProcessFilter;
}

/**
 * Writes the layer for `source` as a deterministic tar into `out` (compressed if asked) and
 * returns its diffID, and for a compressed blob its digest and size, computed while the bytes
 * stream: one pass, nothing buffered. `out` is ended when the layer is complete; if anything
 * fails, the promise rejects and `out` is destroyed, so a store must write to a temp file and
 * rename it into place only after success.
 */
export async function writeLayer(source: LayerSource, out: Writable, opts: WriteLayerOptions = {}): Promise<WriteLayerResult> {
  const compression = opts.compression ?? "none";
  const diff = new Hasher();
  const blob = compression === "none" ? undefined : new DigestTap();
  const dest = compression === "none" ? out : createCompressor(compression, { level: opts.compressionLevel });
  const tail = blob ? pipeline(dest as Duplex, blob, out) : finished(out);
  tail.catch(() => {}); // awaited below; an early failure also stops the loop via `failed`
  let failed: unknown;
  dest.once("error", (e) => (failed ??= e));
  const reuse = releasesChunks(dest);
  const tar = layerTar(source, { sourceDateEpoch: opts.sourceDateEpoch });
  try {
    for await (const chunk of tar) {
      if (failed) throw failed;
      diff.update(chunk);
      const ok = reuse ? dest.write(chunk, () => tar.recycle(chunk)) : dest.write(chunk);
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            dest.off("drain", done);
            dest.off("error", done);
            dest.off("close", done);
            resolve();
          };
          dest.on("drain", done).on("error", done).on("close", done);
        });
      }
    }
    if (failed) throw failed;
    dest.end();
    await tail;
  } catch (err) {
    destroyWithError(dest, err);
    destroyWithError(out, err);
    throw err;
  }
  const result: WriteLayerResult = { diffID: diff.digest(), size: diff.size };
  if (blob) {
    result.digest = blob.digest();
    result.compressedSize = blob.size;
  }
  return result;
}
