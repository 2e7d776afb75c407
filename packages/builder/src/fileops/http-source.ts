// ADD <url>: downloads to a temporary file while hashing, the way BuildKit's HTTP source
// does: the file is named after the last component of the URL path ("__unnamed__" if there
// is none; Content-Disposition is not consulted), gets mode 0600 and the Last-Modified time
// (else the Unix epoch), and --checksum=<algo>:<hex> must match the content.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { join } from "node:path";
import { FileOpError } from "./errors.js";

export interface HttpOptions {
  /** Extra request headers for a URL (e.g. Authorization from HTTP_AUTH_* secrets). */
  headers?: (url: URL) => Record<string, string> | undefined;
  /** Whole-transfer time limit; default 10 minutes. */
  timeoutMs?: number;
}

export interface Download {
  /** The downloaded file on the host. */
  path: string;
  /** File name the URL gives it. */
  name: string;
  size: number;
  /** Last-Modified in ns since the epoch, 0 if absent. */
  mtimeNs: bigint;
  digest: string;
}

const ALGOS: Record<string, { node: string; hexLength: number }> = {
  sha256: { node: "sha256", hexLength: 64 },
  sha384: { node: "sha384", hexLength: 96 },
  sha512: { node: "sha512", hexLength: 128 },
};

/** Parses a --checksum digest; throws BAD_FLAG for a malformed one. */
export function parseChecksum(checksum: string): { algo: string; hex: string } {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(checksum);
  const algo = m && ALGOS[m[1]!];
  if (!m || !algo || m[2]!.length !== algo.hexLength) {
    throw new FileOpError("BAD_FLAG", `invalid checksum digest format: ${JSON.stringify(checksum)} (expected sha256:<64 hex digits>, sha384 or sha512)`);
  }
  return { algo: m[1]!, hex: m[2]! };
}

/** The file name BuildKit derives from a URL: Go's path.Base of the URL path. */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return "__unnamed__";
  }
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  return base === "" || base === "." ? "__unnamed__" : base;
}

/** Downloads `url` into directory `tmpDir` and verifies `checksum` if given. */
export async function download(url: string, tmpDir: string, opts: HttpOptions & { checksum?: string; signal?: AbortSignal }): Promise<Download> {
  const expected = opts.checksum ? parseChecksum(opts.checksum) : undefined;
  const algo = expected?.algo ?? "sha256";
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const fail = (what: string, cause?: unknown) => new FileOpError("HTTP", `ADD failed: GET ${url}: ${what}`, { cause });
  let res: Response;
  try {
    res = await fetch(url, { headers: { "User-Agent": "tbuild", ...opts.headers?.(new URL(url)) }, redirect: "follow", signal });
  } catch (e) {
    if (timeout.aborted) throw fail(`timed out after ${timeoutMs / 1000} s`, e);
    if (opts.signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: e });
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw fail(cause?.code ?? cause?.message ?? (e as Error).message, e);
  }
  if (res.status < 200 || res.status >= 400 || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw fail(`invalid response status ${res.status}${res.statusText ? " " + res.statusText : ""}`);
  }
  const path = join(tmpDir, "download");
  const hash = createHash(ALGOS[algo]!.node);
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), tap, createWriteStream(path, { flags: "wx", mode: 0o600 }), { signal });
  } catch (e) {
    if (timeout.aborted) throw fail(`timed out after ${timeoutMs / 1000} s`, e);
    if (opts.signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled", { cause: e });
    throw fail(`reading the response failed: ${(e as Error).message}`, e);
  }
  const got = hash.digest("hex");
  if (expected && got !== expected.hex) {
    throw new FileOpError("CHECKSUM", `ADD failed: digest mismatch for ${url}: ${algo}:${got} (expected: ${expected.algo}:${expected.hex})`);
  }
  const lastModified = res.headers.get("last-modified");
  const ms = lastModified ? Date.parse(lastModified) : NaN;
  return {
    path,
    name: urlFileName(url),
    size,
    mtimeNs: Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n,
    digest: `${algo}:${got}`,
  };
}
