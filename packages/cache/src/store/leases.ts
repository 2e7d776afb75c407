// Leases: "this process is using these blobs and snapshots — do not collect them".
//
// A lease is a file in leases/ named and stamped with the owner's pid and start time;
// it counts only while that process lives, so a crashed build never pins anything.
//
// The handshake with gc needs no lock on the fast path. gc writes locks/gc.running
// (after taking the exclusive gc lock) BEFORE it reads leases, and removes it after
// its deletions. A lease writer writes its lease file FIRST, then looks for the
// marker: if there is no live marker, any gc that starts later reads our lease; if
// there is one, that gc may have read the leases before ours, so we wait for it to
// finish (a shared flock on the gc lock) and then check that our items still exist.
// Either way, after `add()` returns, everything not reported missing is protected.
//
// The lease file is a JSON line per `add()`, appended (O_APPEND) to a file held open for the
// lease's life: the first line also says who holds it. Rewriting one JSON document per add
// cost a no-op rebuild of 40 steps ~40 temp-file writes and renames of a growing document.
// An append is on disk (for readers) when write() returns, which is all the handshake needs;
// a reader that catches a line half-written skips that line, and then a gc is running, so
// the writer waits for it and checks its items (above). Items found missing are not
// un-listed: a lease naming something that does not exist protects nothing.
import { constants as C, promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { isDigest } from "../util/digest.js";
import { errno, readJsonFile, tempName } from "../util/fs-util.js";
import { lockFile } from "../util/file-lock.js";
import { isOwnerAlive, parseOwnerTag } from "../util/process-info.js";
import type { Layout } from "./layout.js";

/** Items to protect. */
export interface LeaseRefs {
  blobs?: readonly Digest[];
  snapshots?: readonly Digest[];
}

/** Items that were already gone when the lease was taken (the caller must rebuild or re-fetch them). */
export interface LeaseMissing {
  blobs: Digest[];
  snapshots: Digest[];
}

/** One line of a lease file (the first also carries pid, start and created). */
interface LeaseLine {
  pid?: number;
  start?: string;
  created?: string;
  blobs?: Digest[];
  snapshots?: Digest[];
}

/** The items a lease file's text names: the union of its lines (a torn line is skipped). */
export function parseLeaseFile(text: string): { blobs: Digest[]; snapshots: Digest[] } {
  const blobs: Digest[] = [];
  const snapshots: Digest[] = [];
  for (const line of text.split("\n")) {
    let l: LeaseLine;
    try {
      l = JSON.parse(line) as LeaseLine;
    } catch {
      continue;
    }
    if (!l || typeof l !== "object") continue;
    for (const d of Array.isArray(l.blobs) ? l.blobs : []) if (isDigest(d)) blobs.push(d);
    for (const d of Array.isArray(l.snapshots) ? l.snapshots : []) if (isDigest(d)) snapshots.push(d);
  }
  return { blobs, snapshots };
}

interface GcMarker {
  pid: number;
  start: string;
}

/** Waits until no live gc is between "read the leases" and "done deleting". */
export async function waitForRunningGc(layout: Layout): Promise<void> {
  const marker = await readJsonFile<GcMarker>(layout.gcMarker);
  if (!marker || typeof marker.pid !== "number" || !isOwnerAlive(marker.pid, String(marker.start))) return;
  const lock = await lockFile(layout.gcLock, "shared");
  await lock.release();
}

/** A held lease. Release it when the build no longer needs the items. */
export class Lease {
  readonly #blobs = new Set<Digest>();
  readonly #snapshots = new Set<Digest>();
  #released = false;
  readonly created = new Date().toISOString();
  /** The lease file (exists once something was added). */
  readonly file: string;
  /** Items that were already gone at the most recent `add()` (or at creation). */
  missing: LeaseMissing = { blobs: [], snapshots: [] };

  /** Use `Store.lease()`. */
  constructor(
    private readonly layout: Layout,
    private readonly hooks: {
      exists: (kind: "blob" | "snapshot", d: Digest) => Promise<boolean>;
      onRelease?: (lease: Lease) => void;
    },
  ) {
    this.file = path.join(layout.leasesDir, `${tempName("lease")}.json`);
  }

  get blobs(): ReadonlySet<Digest> {
    return this.#blobs;
  }
  get snapshots(): ReadonlySet<Digest> {
    return this.#snapshots;
  }

  /**
   * Adds items to the lease and returns those that no longer exist. Everything else is
   * safe from gc until `release()` (or until this process exits). With `pending`, items
   * that do not exist yet stay in the lease: a writer leases what it is about to commit,
   * so that no gc can take it between its commit and its first use.
   */
  async add(refs: LeaseRefs, opts: { pending?: boolean } = {}): Promise<LeaseMissing> {
    if (this.#released) throw new CacheError("ERR_LEASE_RELEASED", "lease already released");
    const blobs = [...(refs.blobs ?? [])].filter((d) => !this.#blobs.has(d));
    const snapshots = [...(refs.snapshots ?? [])].filter((d) => !this.#snapshots.has(d));
    for (const d of [...blobs, ...snapshots]) {
      if (!isDigest(d)) throw new CacheError("ERR_BAD_DIGEST", `cannot lease invalid digest ${JSON.stringify(d)}`);
    }
    if (blobs.length + snapshots.length === 0) return (this.missing = { blobs: [], snapshots: [] });
    blobs.forEach((d) => this.#blobs.add(d));
    snapshots.forEach((d) => this.#snapshots.add(d));
    await this.#append({ blobs, snapshots });
    await waitForRunningGc(this.layout);
    const missing: LeaseMissing = { blobs: [], snapshots: [] };
    await Promise.all([
      ...blobs.map(async (d) => void (!(await this.hooks.exists("blob", d)) && missing.blobs.push(d))),
      ...snapshots.map(async (d) => void (!(await this.hooks.exists("snapshot", d)) && missing.snapshots.push(d))),
    ]);
    // A missing item cannot be protected; drop it so the lease says what it holds —
    // unless it is pending (about to be written by the lease holder).
    if (!opts.pending) {
      missing.blobs.forEach((d) => this.#blobs.delete(d));
      missing.snapshots.forEach((d) => this.#snapshots.delete(d));
    }
    this.missing = missing;
    return missing;
  }

  #file: Promise<fsp.FileHandle> | undefined;

  /** Appends one line; the file is created (with the owner line) by the first. */
  async #append(items: { blobs: Digest[]; snapshots: Digest[] }): Promise<void> {
    const first = this.#file === undefined;
    // O_EXCL: the name is unique to this lease; O_APPEND: concurrent adds never overwrite each other.
    this.#file ??= fsp.open(this.file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_APPEND, 0o644);
    const fh = await this.#file;
    const [pid, start] = path.basename(this.file).split(".");
    const line: LeaseLine = first ? { pid: Number(pid), start: start!, created: this.created, ...items } : items;
    // No fsync: a lease only matters while its process lives, i.e. not across reboots.
    await fh.write(`${JSON.stringify(line)}\n`);
  }

  /** Drops the lease; the items become collectable (if nothing else references them). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.hooks.onRelease?.(this);
    await (await this.#file?.catch(() => undefined))?.close();
    await fsp.rm(this.file, { force: true });
  }
}

/** Union of the items held by live leases; lease files of dead processes are removed. */
export async function readLiveLeases(layout: Layout): Promise<{ blobs: Set<Digest>; snapshots: Set<Digest> }> {
  const blobs = new Set<Digest>();
  const snapshots = new Set<Digest>();
  const names = await fsp.readdir(layout.leasesDir);
  await Promise.all(
    names.map(async (n) => {
      const file = path.join(layout.leasesDir, n);
      const m = /^(\d+\.\d+)\./.exec(n);
      const owner = m ? parseOwnerTag(m[1]!) : undefined;
      if (!owner || !isOwnerAlive(owner.pid, owner.start)) {
        await fsp.rm(file, { force: true });
        return;
      }
      const text = await fsp.readFile(file, "utf8").catch((e) => (errno(e) === "ENOENT" ? "" : Promise.reject(e)));
      const data = parseLeaseFile(text);
      for (const d of data.blobs) blobs.add(d);
      for (const d of data.snapshots) snapshots.add(d);
    }),
  );
  return { blobs, snapshots };
}
