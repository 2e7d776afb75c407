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
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { isDigest } from "../util/digest.js";
import { errno, readJsonFile, tempName, writeFileAtomic } from "../util/fs-util.js";
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

interface LeaseFile {
  pid: number;
  start: string;
  created: string;
  blobs: Digest[];
  snapshots: Digest[];
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
    await this.#write();
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
      if (missing.blobs.length + missing.snapshots.length > 0) await this.#write();
    }
    this.missing = missing;
    return missing;
  }

  #writing: Promise<void> = Promise.resolve();

  /**
   * Rewrites the lease file with the current sets. Writes are chained, and each one
   * reads the sets when it runs, so with concurrent `add()`s the last write on disk
   * always holds every item added so far.
   */
  #write(): Promise<void> {
    const next = this.#writing.then(() => this.#writeNow());
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #writeNow(): Promise<void> {
    const [pidStr, start] = path.basename(this.file).split(".");
    const data: LeaseFile = {
      pid: Number(pidStr),
      start: start!,
      created: this.created,
      blobs: [...this.#blobs],
      snapshots: [...this.#snapshots],
    };
    // No fsync: a lease only matters while its process lives, i.e. not across reboots.
    await writeFileAtomic(this.file, JSON.stringify(data), { tmpDir: this.layout.tmpDir });
  }

  /** Drops the lease; the items become collectable (if nothing else references them). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.hooks.onRelease?.(this);
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
      const data = await readJsonFile<LeaseFile>(file).catch((e) => (errno(e) === "ENOENT" ? undefined : Promise.reject(e)));
      for (const d of data?.blobs ?? []) if (isDigest(d)) blobs.add(d);
      for (const d of data?.snapshots ?? []) if (isDigest(d)) snapshots.add(d);
    }),
  );
  return { blobs, snapshots };
}
