// writeLayer: source dir → tar (→ compressed) bytes, hashed in the same pass.
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestTap } from "../digest.js";
import type { Compression, Digest } from "../types.js";
import { createCompressor } from "./compression.js";
import type { LayerSource } from "./source.js";
import { layerTarChunks } from "./tar-writer.js";

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
 * Writes the layer for `source` as a deterministic tar into `out` (compressed if asked) and
 * returns its diffID, and for a compressed blob its digest and size, computed while the bytes
 * stream: one pass, nothing buffered. `out` is ended when the layer is complete; if anything
 * fails, the promise rejects and `out` is destroyed, so a store must write to a temp file and
 * rename it into place only after success.
 */
export async function writeLayer(source: LayerSource, out: Writable, opts: WriteLayerOptions = {}): Promise<WriteLayerResult> {
  const diff = new DigestTap();
  const tar = Readable.from(layerTarChunks(source, { sourceDateEpoch: opts.sourceDateEpoch }), { objectMode: false, highWaterMark: 1 << 20 });
  const compression = opts.compression ?? "none";
  if (compression === "none") {
    await pipeline(tar, diff, out);
    return { diffID: diff.digest(), size: diff.size };
  }
  const blob = new DigestTap();
  await pipeline(tar, diff, createCompressor(compression, { level: opts.compressionLevel }), blob, out);
  return { diffID: diff.digest(), size: diff.size, digest: blob.digest(), compressedSize: blob.size };
}
