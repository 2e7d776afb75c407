// Layer compression: gzip through Node's zlib, zstd through the `zstd` binary (Node 20's zlib
// has no zstd, and the zstd CLI is installed everywhere images are built; it is spawned once
// per blob as a stream filter). Both are deterministic: zlib's gzip header carries no name
// and mtime 0; zstd runs single-threaded so its output never depends on the core count.
import { createGunzip, createGzip } from "node:zlib";
import { PassThrough, type Duplex, type Readable, type Writable } from "node:stream";
import { pipeline as pipelineAsync } from "node:stream/promises";
import { DigestTap } from "../digest.js";
import { MediaType, type Compression, type Digest } from "../types.js";
import { ProcessFilter } from "../util/process-filter.js";

/**
 * gzip level used for layers. Level 6 is the gzip/Go default; with Node's zlib (Chromium's
 * SIMD-optimised zlib) it compresses faster than `gzip -6` itself on layer data, so nothing is
 * gained by lowering it (see the `bench:oci` figures in the report).
 */
export const DEFAULT_GZIP_LEVEL = 6;
/** zstd level used for layers (the zstd CLI default). */
export const DEFAULT_ZSTD_LEVEL = 3;

/** zlib's default 16 KiB output chunks cost a threadpool round trip each; 128 KiB is ~25% faster. */
const ZLIB_CHUNK = 128 << 10;
const ZSTD_HINT = 'install the Debian package "zstd"';

/** Options for compressing a blob. */
export interface CompressOptions {
  /** gzip 1–9 (default 6) or zstd 1–19 (default 3). */
  level?: number;
}

/** A stream that compresses with `compression` ("none" passes bytes through). */
export function createCompressor(compression: Compression, opts: CompressOptions = {}): Duplex {
  switch (compression) {
    case "gzip":
      return createGzip({ level: opts.level ?? DEFAULT_GZIP_LEVEL, chunkSize: ZLIB_CHUNK });
    case "zstd":
      return new ProcessFilter("zstd", ["-q", "-c", `-${opts.level ?? DEFAULT_ZSTD_LEVEL}`, "--single-thread"], "zstd compression", ZSTD_HINT);
    case "none":
      return new PassThrough();
  }
}

/** A stream that undoes `compression`. */
export function createDecompressor(compression: Compression): Duplex {
  switch (compression) {
    case "gzip":
      return createGunzip({ chunkSize: ZLIB_CHUNK });
    case "zstd":
      return new ProcessFilter("zstd", ["-q", "-d", "-c"], "zstd decompression", ZSTD_HINT);
    case "none":
      return new PassThrough();
  }
}

/** Recognises gzip and zstd by their magic bytes; anything else is treated as uncompressed. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** The layer media type for a compression, in OCI or Docker flavour. */
export function layerMediaType(compression: Compression, flavour: "oci" | "docker" = "oci"): string {
  if (flavour === "docker") {
    if (compression === "zstd") return MediaType.ociLayerZstd; // Docker has no zstd type of its own
    return compression === "gzip" ? MediaType.dockerLayerGzip : MediaType.dockerLayer;
  }
  return compression === "gzip" ? MediaType.ociLayerGzip : compression === "zstd" ? MediaType.ociLayerZstd : MediaType.ociLayer;
}

/** The compression a layer media type implies (undefined for non-layer types). */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.dockerLayer:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar":
      return "none";
    case MediaType.ociLayerGzip:
    case MediaType.dockerLayerGzip:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
    case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
      return "gzip";
    case MediaType.ociLayerZstd:
    case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
      return "zstd";
    default:
      return undefined;
  }
}

/**
 * Compresses `input` (an uncompressed layer tar) into `out`, hashing the compressed bytes on
 * the way: returns the blob's digest and size. `out` is ended when done. This is how the
 * store makes a compressed blob lazily from a stored diff (DESIGN: compression is lazy).
 */
export async function compressBlob(
  input: Readable,
  compression: Compression,
  out: Writable,
  opts: CompressOptions = {},
): Promise<{ digest: Digest; size: number }> {
  const tap = new DigestTap();
  await pipelineAsync(input, createCompressor(compression, opts), tap, out);
  return { digest: tap.digest(), size: tap.size };
}
