// ADD <url>: downloads to a temporary file while hashing, the way BuildKit's HTTP source
// does: the file is named after the last component of the URL path ("__unnamed__" if there
// is none; Content-Disposition is not consulted), gets mode 0600 and the Last-Modified time
// (else the Unix epoch), and --checksum=<algo>:<hex> must match the content.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Transform } from "node:stream";
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

const MAX_REDIRECTS = 10;

/** One GET, following redirects; resolves with the response once its headers arrive. */
async function get(url: URL, headers: Record<string, string>, signal: AbortSignal, redirects = 0): Promise<IncomingMessage> {
  // Loaded here, not at start-up: node:https (with tls) costs every command ~15 ms to load,
  // and only an ADD of a URL needs it.
  const mod = url.protocol === "https:" ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location && status !== 304) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`stopped after ${MAX_REDIRECTS} redirects`));
        const next = new URL(location, url);
        // Credentials meant for one host are not sent to another.
        const h = next.host === url.host ? headers : { "User-Agent": headers["User-Agent"]! };
        get(next, h, signal, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on("error", reject);
  });
}

/** Downloads `url` into directory `tmpDir` and verifies `checksum` if given. */
export async function download(url: string, tmpDir: string, opts: HttpOptions & { checksum?: string; signal?: AbortSignal }): Promise<Download> {
  const expected = opts.checksum ? parseChecksum(opts.checksum) : undefined;
  const algo = expected?.algo ?? "sha256";
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const fail = (what: string, cause?: unknown) => new FileOpError("HTTP", `ADD failed: GET ${url}: ${what}`, { cause });
  const failFrom = (e: unknown) => {
    if (timeout.aborted) return fail(`timed out after ${timeoutMs / 1000} s`, e);
    if (opts.signal?.aborted) return new FileOpError("ABORTED", "the file operation was cancelled", { cause: e });
    const err = e as NodeJS.ErrnoException;
    return fail(err.code ? `${err.code} (${err.message})` : err.message, e);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new FileOpError("BAD_FLAG", `ADD failed: invalid URL ${url}`, { cause: e });
  }
  let res: IncomingMessage;
  try {
    res = await get(parsed, { "User-Agent": "tbuild", ...opts.headers?.(parsed) }, signal);
  } catch (e) {
    throw failFrom(e);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 400) {
    res.resume();
    throw fail(`invalid response status ${status}${res.statusMessage ? " " + res.statusMessage : ""}`);
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
    await pipeline(res, tap, createWriteStream(path, { flags: "wx", mode: 0o600 }), { signal });
  } catch (e) {
    throw failFrom(e);
  }
  const got = hash.digest("hex");
  if (expected && got !== expected.hex) {
    throw new FileOpError("CHECKSUM", `ADD failed: digest mismatch for ${url}: ${algo}:${got} (expected: ${expected.algo}:${expected.hex})`);
  }
  const lastModified = res.headers["last-modified"];
  const ms = lastModified ? Date.parse(lastModified) : NaN;
  return {
    path,
    name: urlFileName(url),
    size,
    mtimeNs: Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n,
    digest: `${algo}:${got}`,
  };
}
