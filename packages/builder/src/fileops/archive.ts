// Recognising a local archive for ADD the way BuildKit does (moby's DecompressStream, then a
// tar header): compression is detected from the content's magic bytes, never from the file
// name; the file is an archive if what comes out starts with a valid tar header. gzip is
// decoded in-process; bzip2, xz and zstd through their command-line tools as stream filters.
import { spawn } from "node:child_process";
import { createGunzip } from "node:zlib";
import { PassThrough, type Readable } from "node:stream";
import { FileOpError } from "./errors.js";

export type Compression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

const MAGIC: [Compression, number[]][] = [
  ["gzip", [0x1f, 0x8b, 0x08]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression of a stream, from its first bytes. */
export function detectCompression(head: Buffer): Compression {
  for (const [name, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return name;
  }
  return "none";
}

/** True if `block` (512 bytes) is a tar header with a valid checksum (signed or unsigned, as Go accepts). */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.every((b) => b === 0)) return false;
  const field = block.toString("latin1", 148, 156).replace(/\0.*$/s, "").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** Decompresses `input`; errors of a filter program (exit status, stderr) arrive on the returned stream. */
export function decompress(input: Readable, compression: Compression): Readable {
  if (compression === "none") return input;
  if (compression === "gzip") {
    const gunzip = createGunzip();
    input.on("error", (e) => gunzip.destroy(e));
    gunzip.on("close", () => input.destroy());
    return input.pipe(gunzip);
  }
  const tool = compression === "bzip2" ? "bzip2" : compression === "xz" ? "xz" : "zstd";
  const out = new PassThrough();
  const child = spawn(tool, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.on("error", (e) =>
    out.destroy(new FileOpError("TOOL", `${tool} is needed to decompress this archive but could not be started (${e.message})`, { cause: e })),
  );
  child.on("close", (code, signal) => {
    if (code !== 0 && !out.destroyed && signal !== "SIGTERM") {
      out.destroy(new FileOpError("ARCHIVE", `${tool} -dc failed: ${stderr.trim() || `exit status ${code}`}`));
    }
  });
  child.stdin.on("error", () => {}); // EPIPE when the reader stops early; the exit status tells the rest
  input.on("error", (e) => out.destroy(e));
  input.pipe(child.stdin);
  child.stdout.pipe(out);
  out.on("close", () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    input.destroy();
  });
  return out;
}

/** Reads up to `n` bytes from the start of a stream, then stops it. */
async function readHead(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= n) break;
    }
  } catch {
    // A truncated or corrupt stream is simply "not an archive".
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/**
 * True if the content opened by `open` (called twice: once for the magic bytes, once for the
 * decompressed start) is a tar archive, possibly compressed.
 */
export async function isArchive(open: () => Promise<Readable>): Promise<{ archive: boolean; compression: Compression }> {
  const compression = detectCompression(await readHead(await open(), 6));
  const head = await readHead(decompress(await open(), compression), 512);
  return { archive: isTarHeader(head), compression };
}
