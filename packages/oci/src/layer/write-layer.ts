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
  /** The layer is known to be small: produce it on this thread instead of a worker. */
  small?: boolean;
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
 * Marks a Writable that is done with each chunk once it calls that chunk's write callback
 * (it writes it to a file or socket and keeps no reference). writeLayer then reuses the
 * chunk's memory instead of allocating fresh memory for every MiB — fresh memory costs a page
 * fault per 4 KiB, measured at several times the cost of reading the files. Set it as
 * `writable[RELEASES_CHUNKS] = true` (it is a global symbol, so no import is needed:
 * `Symbol.for("tbuild.oci.releasesChunks")`). fs.WriteStream, zlib and our zstd filter are
 * recognised without it; a PassThrough must never carry it (it keeps chunks after the callback).
 */
export const RELEASES_CHUNKS: unique symbol = Symbol.for("tbuild.oci.releasesChunks") as never;

function releasesChunks(w: Writable): boolean {
  return w instanceof WriteStream || w instanceof Gzip || w instanceof ProcessFilter || (w as unknown as Record<symbol, unknown>)[RELEASES_CHUNKS] === true;
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
  const tar = layerTar(source, { sourceDateEpoch: opts.sourceDateEpoch, inline: opts.small });
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
