// unpackLayer: a (compressed) layer blob → a directory, verified while streaming.
import { mkdirSync, realpathSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DigestTap, verifyContent } from "../digest.js";
import { OciError } from "../errors.js";
import { readTar } from "../tar/reader.js";
import type { Compression, Digest } from "../types.js";
import { createDecompressor, detectCompression } from "./compression.js";
import { Extractor, type WhiteoutMode } from "./extractor.js";

/** Options of unpackLayer. */
export interface UnpackLayerOptions {
  /**
   * "overlay": write the layer as an overlayfs lower dir (`.wh.x` → char device 0/0 named x,
   * `.wh..wh..opq` → `trusted.overlay.opaque=y` on the directory); this is how layers become
   * snapshots. "apply": delete whiteouted paths in the target (flattening onto a rootfs).
   */
  whiteouts: WhiteoutMode;
  /** Fail unless the uncompressed tar hashes to this. */
  expectedDiffID?: Digest;
  /** Fail unless the blob as given (compressed or not) hashes to this. */
  expectedDigest?: Digest;
  /** Fail unless the blob as given has this many bytes. */
  expectedSize?: number;
  /**
   * Treat absolute symlink targets as relative to the target directory (a chroot view) when
   * resolving the parents of later entries. Default false: an entry whose path goes through
   * a symlink to an absolute or escaping target is refused.
   */
  rootedSymlinks?: boolean;
  /** Restore numeric owners; default true when running as root. */
  sameOwner?: boolean;
}

/** What unpackLayer verified and applied. */
export interface UnpackLayerResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Length of the uncompressed tar. */
  size: number;
  /** Compression detected from the blob's magic bytes. */
  compression: Compression;
  /** sha256 of the blob as given (equals diffID when uncompressed). */
  digest: Digest;
  /** Length of the blob as given. */
  compressedSize: number;
}

async function* replay(first: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * Unpacks a layer blob into `targetDir` (created if missing). Gzip, zstd and plain tar are
 * told apart by their magic bytes. Digests and sizes given in `opts` are checked while the
 * bytes stream, and the promise rejects on mismatch, truncation, malformed tar data, or any
 * entry that would land outside `targetDir` (UNSAFE_PATH, naming the entry).
 *
 * A rejected unpack leaves `targetDir` half-written. Always unpack into a fresh temporary
 * directory next to the final location and rename it into place only after this resolves;
 * delete it on failure. Directory mtimes, device nodes, fifos and xattrs are only applied
 * once every entry has been written and all digests have been verified.
 */
export async function unpackLayer(input: Readable, targetDir: string, opts: UnpackLayerOptions): Promise<UnpackLayerResult> {
  mkdirSync(targetDir, { recursive: true });
  const root = realpathSync(targetDir);
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes < 4) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      headBytes += r.value.length;
    }
  } catch (err) {
    input.destroy();
    throw err;
  }
  if (headBytes === 0) throw new OciError("TRUNCATED", "the layer blob is empty.");
  const compression = detectCompression(Buffer.concat(head));
  const blob = new DigestTap();
  const diff = new DigestTap();
  const extractor = new Extractor(root, { whiteouts: opts.whiteouts, rootedSymlinks: opts.rootedSymlinks, sameOwner: opts.sameOwner });
  try {
    await pipeline(Readable.from(replay(head, it)), blob, createDecompressor(compression), diff, async (source: AsyncIterable<Buffer>) => {
      for await (const { header, body } of readTar(source)) await extractor.entry(header, body);
    });
  } catch (err) {
    input.destroy();
    if (err instanceof OciError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (compression === "gzip" && (e.code === "Z_BUF_ERROR" || e.code === "Z_DATA_ERROR")) {
      throw new OciError(e.code === "Z_BUF_ERROR" ? "TRUNCATED" : "INVALID_FORMAT", `the gzip layer blob is ${e.code === "Z_BUF_ERROR" ? "truncated" : "corrupt"} (${e.message}).`, { cause: err });
    }
    throw err;
  }
  verifyContent("layer blob", { digest: blob.digest(), size: blob.size }, { digest: opts.expectedDigest, size: opts.expectedSize });
  verifyContent("uncompressed layer (diffID)", { digest: diff.digest(), size: diff.size }, { digest: opts.expectedDiffID });
  await extractor.finish();
  return { diffID: diff.digest(), size: diff.size, compression, digest: blob.digest(), compressedSize: blob.size };
}
