// The context files a COPY/ADD key covered, one signature per path (what the context
// digest encodes: type, mode, owner, size, content hash or link target). Made only on a
// miss, from hashes the key computation already has (the context index memoises them),
// and kept as a blob that the cache record references — so gc keeps it exactly as long
// as the record. The next miss of the step compares two listings to name changed files.
import type { Digest } from "@tbuild/oci";
import { sha256Digest, type ContextIndex, type Store } from "@tbuild/cache";

export interface FileListing {
  v: 1;
  /** [path, signature], sorted by path. */
  files: [string, string][];
}

/** Listings above this many paths are not kept (the miss then says "context files changed"). */
export const MAX_LISTED_FILES = 20_000;

/** Counters for tests: a cache hit must never make a listing (no extra hashing on a hit). */
export const listingCounters = { made: 0, read: 0 };

/**
 * The listing of exactly what `index.digest(paths, { excludes })` covers. Content hashes come
 * from the index's memo, filled when the key was computed, so nothing is read again.
 */
export async function contextListing(index: ContextIndex, paths: string[], excludes: string[]): Promise<FileListing | undefined> {
  const entries = index.select(paths, excludes.length ? { excludes } : {});
  if (entries.length > MAX_LISTED_FILES) return undefined;
  listingCounters.made++;
  const files: [string, string][] = [];
  for (const e of entries) {
    const content = e.type === "file" ? await index.contentHash(e.path) : e.type === "symlink" ? `-> ${e.linkTarget ?? ""}` : "";
    // The context root itself is "" in the index: shown as ".".
    files.push([e.path || ".", `${e.type} ${(e.mode & 0o7777).toString(8)} ${e.uid}:${e.gid} ${e.type === "file" ? e.size : 0} ${content}`]);
  }
  return { v: 1, files };
}

/** Stores a listing as a blob; `hold` leases it before it appears (a prune cannot take it before the record does). */
export async function putListing(store: Store, listing: FileListing, hold: (d: Digest) => Promise<unknown>): Promise<Digest> {
  const text = JSON.stringify(listing);
  const digest = sha256Digest(text);
  await hold(digest);
  await store.putBlob(text, { digest });
  return digest;
}

/** A stored listing, or undefined when it is gone or not one. */
export async function readListing(store: Store, digest: Digest): Promise<FileListing | undefined> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of store.openBlob(digest)) chunks.push(Buffer.from(c as Uint8Array));
    const f = JSON.parse(Buffer.concat(chunks).toString("utf8")) as FileListing;
    listingCounters.read++;
    return f?.v === 1 && Array.isArray(f.files) ? f : undefined;
  } catch {
    return undefined;
  }
}
