// Blob transfer: downloads (verified, streamed to a sink, resumed with Range after a broken
// connection) and uploads (existence check, cross-repository mount, monolithic or chunked).
import { destroyWithError } from "../util/destroy.js";
import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { OciError } from "../errors.js";
import { verified, type BlobSource } from "../layout/blob-source.js";
import type { Descriptor, Digest } from "../types.js";
import { errorDetail, networkError, release, type RegistryResponse, type Transport } from "./transport.js";

/** How a blob reached the registry during a push. */
export type BlobPushOutcome = "existing" | "mounted" | "uploaded";

const pullScope = (repo: string): string => `repository:${repo}:pull`;
const pushScope = (repo: string): string => `repository:${repo}:pull,push`;

/** An error for an unexpected registry response, with the registry's own explanation. */
export async function statusError(res: RegistryResponse, what: string): Promise<OciError> {
  const detail = await errorDetail(res);
  const tail = detail ? `: ${detail}` : "";
  if (res.status === 401) return new OciError("UNAUTHORIZED", `${what}: authentication required or refused (HTTP 401${tail}); log in or pass credentials.`);
  if (res.status === 403) return new OciError("DENIED", `${what}: access denied (HTTP 403${tail}).`);
  if (res.status === 404) return new OciError("NOT_FOUND", `${what}: not found (HTTP 404${tail}).`);
  return new OciError("REGISTRY", `${what}: the registry answered HTTP ${res.status}${tail}.`);
}

function write(sink: Writable, chunk: Buffer): Promise<void> | undefined {
  if (sink.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off("drain", onDrain);
      sink.off("error", done);
      sink.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new OciError("REGISTRY", "the blob's destination was closed early."));
    sink.on("drain", onDrain).on("error", done).on("close", onClose);
  });
}

/**
 * Downloads a blob into `sink`, verifying size and digest as the bytes pass. A connection that
 * breaks mid-way is resumed with a Range request where the server allows it (otherwise the
 * bytes already delivered are skipped in the new response). On success the sink is ended
 * (and this resolves once it has finished); on failure it is destroyed with the error, so a
 * store writing to a temp file never commits a bad blob.
 */
export async function downloadBlob(t: Transport, registry: string, repo: string, desc: Descriptor, sink: Writable, retries: number): Promise<void> {
  const what = `blob ${desc.digest} of ${registry}/${repo}`;
  const hash = createHash("sha256");
  let received = 0;
  let failures = 0;
  try {
    for (;;) {
      const res = await t.send({
        method: "GET", registry, path: `/v2/${repo}/blobs/${desc.digest}`, scopes: [pullScope(repo)], what,
        headers: received > 0 ? { range: `bytes=${received}-` } : {},
      });
      if (res.status !== 200 && res.status !== 206) throw await statusError(res, what);
      let skip = 0;
      if (received > 0 && res.status === 206) {
        const start = /bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1];
        if (Number(start) !== received) {
          res.body?.destroy();
          throw new OciError("REGISTRY", `${what}: asked to resume at byte ${received} but the server sent ${res.headers.get("content-range")}.`);
        }
      } else if (received > 0) skip = received; // Range ignored: the server resent everything
      try {
        for await (const c of res.body ?? []) {
          let chunk = c as Buffer;
          if (skip > 0) {
            const s = Math.min(skip, chunk.length);
            skip -= s;
            chunk = chunk.subarray(s);
            if (chunk.length === 0) continue;
          }
          received += chunk.length;
          if (received > desc.size) throw new OciError("SIZE_MISMATCH", `${what}: the registry sent more than the ${desc.size} bytes the manifest announces.`);
          hash.update(chunk);
          const p = write(sink, chunk);
          if (p) await p;
        }
      } catch (err) {
        res.body?.destroy();
        if (err instanceof OciError) throw err;
        if (++failures > retries) {
          const e = networkError(err, what, res.url.href);
          if (e.code === "TIMEOUT") throw e;
          throw new OciError("TRUNCATED", `${what}: the connection broke after ${received} of ${desc.size} bytes, ${failures} times (${(e.cause as { cause?: { code?: string } })?.cause?.code ?? e.message}).`, { cause: err });
        }
        continue; // resume
      }
      if (received < desc.size) {
        if (++failures > retries) {
          throw new OciError("TRUNCATED", `${what}: the registry sent ${received} of ${desc.size} bytes (truncated).`);
        }
        continue;
      }
      break;
    }
    const got = `sha256:${hash.digest("hex")}` as Digest;
    if (got !== desc.digest) {
      throw new OciError("DIGEST_MISMATCH", `${what}: the content's digest is ${got}; the registry sent corrupt or tampered data.`);
    }
  } catch (err) {
    destroyWithError(sink, err);
    throw err;
  }
  await new Promise<void>((resolve, reject) => {
    sink.once("error", reject);
    sink.end(() => resolve());
  });
}

/** HEAD: does the repository have the blob (with the expected size)? */
export async function blobExists(t: Transport, registry: string, repo: string, desc: Descriptor): Promise<boolean> {
  const what = `blob ${desc.digest} in ${registry}/${repo}`;
  const res = await t.send({ method: "HEAD", registry, path: `/v2/${repo}/blobs/${desc.digest}`, scopes: [pushScope(repo)], what });
  if (res.status === 404) return false;
  if (res.status !== 200) throw await statusError(res, what);
  const len = res.headers.get("content-length");
  return len === null || Number(len) === desc.size;
}

/** Options of pushBlob. */
export interface UploadOptions {
  /** A repository on the same registry that already holds the blob (cross-repository mount). */
  mountFrom?: string;
  /** False: the repository is not known to hold the blob; upload without asking (no HEAD). */
  mayExist?: boolean;
  /** Upload in PATCH chunks of this size; monolithic when unset or the blob is smaller. */
  chunkSize?: number;
}

function withDigest(location: URL, digest: Digest): string {
  const u = new URL(location);
  u.searchParams.set("digest", digest);
  return u.href;
}

function locationOf(res: RegistryResponse, what: string): URL {
  const loc = res.headers.get("location");
  if (!loc) throw new OciError("REGISTRY", `${what}: the registry gave no upload location.`);
  return new URL(loc, res.url);
}

async function* slice(stream: Readable, chunkSize: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream) {
    let b = c as Buffer;
    while (b.length > 0) {
      const take = Math.min(b.length, chunkSize - have);
      parts.push(b.subarray(0, take));
      have += take;
      b = b.subarray(take);
      if (have === chunkSize) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

/**
 * Makes `desc` present in `repo`. With `mountFrom` (another repository of the registry
 * that holds it): a cross-repository mount straight away, as Docker does — one request,
 * and 201 whether the blob was mounted or already there ("mounted"); a registry that
 * will not mount answers 202 with an upload session, which the upload then uses. Without:
 * HEAD first (already there → "existing"; skipped when `mayExist` is false), else an upload
 * ("uploaded"), monolithic or in chunks. The blob is streamed from `source` and verified on the way.
 */
export async function pushBlob(t: Transport, registry: string, repo: string, desc: Descriptor, source: BlobSource, opts: UploadOptions = {}): Promise<BlobPushOutcome> {
  const what = `uploading blob ${desc.digest} to ${registry}/${repo}`;
  const from = opts.mountFrom !== repo ? opts.mountFrom : undefined;
  if (from === undefined && opts.mayExist !== false && (await blobExists(t, registry, repo, desc))) return "existing";
  const scopes = [pushScope(repo)];
  let start: RegistryResponse;
  if (from !== undefined) {
    const q = new URLSearchParams({ mount: desc.digest, from });
    start = await t.send({ method: "POST", registry, path: `/v2/${repo}/blobs/uploads/?${q}`, scopes: [...scopes, pullScope(from)], what, body: Buffer.alloc(0) });
    if (start.status === 201) {
      release(start);
      return "mounted";
    }
  } else {
    start = await t.send({ method: "POST", registry, path: `/v2/${repo}/blobs/uploads/`, scopes, what, body: Buffer.alloc(0) });
  }
  if (start.status !== 202) throw await statusError(start, what);
  release(start);
  let location = locationOf(start, what);
  const open = async (): Promise<Readable> => verified(await source.open(desc.digest), desc.digest, desc.size, `blob ${desc.digest} from the local store`);

  if (opts.chunkSize && desc.size > opts.chunkSize) {
    let offset = 0;
    for await (const chunk of slice(await open(), opts.chunkSize)) {
      const res = await t.send({
        method: "PATCH", registry, path: location.href, scopes, what, body: chunk,
        headers: { "content-type": "application/octet-stream", "content-length": String(chunk.length), "content-range": `${offset}-${offset + chunk.length - 1}` },
      });
      if (res.status !== 202) throw await statusError(res, what);
      release(res);
      location = locationOf(res, what);
      offset += chunk.length;
    }
    const done = await t.send({ method: "PUT", registry, path: withDigest(location, desc.digest), scopes, what, body: Buffer.alloc(0), headers: { "content-length": "0" } });
    if (done.status !== 201) throw await statusError(done, what);
    release(done);
    return "uploaded";
  }
  const res = await t.send({
    method: "PUT", registry, path: withDigest(location, desc.digest), scopes, what, body: open,
    headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
  });
  if (res.status !== 201) throw await statusError(res, what);
  release(res);
  return "uploaded";
}
