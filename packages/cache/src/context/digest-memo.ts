// The digests a context gave last time, each with what it covered: for every requested path
// its own record, and for every directory at or below a requested directory its *state* (the
// walk's hash of its children's names, modes, owners and stat fingerprints, walk.ts) and its
// *content* (the hash of its children's names, types, modes, owners, sizes and content
// hashes). A digest over the same paths is served again when each covered record and
// directory has the same state — nothing a digest covers changed (a changed file has another
// size, mtime or ctime, an added or removed one another listing) — or, where a state differs
// (a file touched, a directory's listing rewritten), the same content, computed for that one
// directory. So a no-op rebuild of a 20,000-file context neither loads the stat cache nor hashes
// a 20,000-record listing again, and a rebuild after a touch hashes one directory.
//
// A digest is only remembered when every content hash in it can vouch for its file: taken
// from the stat cache, or read now and trusted (file-hasher.ts: not "racily clean", and the
// file's stat unchanged since the walk). A later write to such a file lands in a later
// timestamp tick, so it changes the fingerprint, and with it the state. Requests with COPY
// --exclude are not remembered (their directories' content would cover files they leave out).
//
// Kept beside the stat cache (<store>/contexts/<sha256(root)>.digests.json).
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { writeFileAtomic } from "../util/fs-util.js";
import { cleanStaleTemps } from "./stat-cache.js";

const FORMAT = "digest-memo/v2";

/** [state, content] of a requested path's own record, or of a directory's listing. */
export type Covered = Record<string, [state: string, content: string]>;

/** One remembered digest and what it covered. */
export interface MemoEntry {
  digest: Digest;
  tops: Covered;
  dirs: Covered;
}

interface MemoFile {
  v: string;
  root: string;
  requests: Record<string, MemoEntry>;
}

/** The key of one digest request. */
export const requestKey = (paths: readonly string[]) => JSON.stringify(paths);

export class DigestMemo {
  #dirty = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly version: string,
    private readonly root: string,
    private readonly requests: Record<string, MemoEntry>,
  ) {}

  /** The memo of `root` (empty when the file holds another format, digest version or root). */
  static async load(file: string | undefined, digestVersion: string, root: string): Promise<DigestMemo> {
    const version = `${FORMAT} ${digestVersion}`;
    let requests: Record<string, MemoEntry> = {};
    if (file) {
      try {
        const data = JSON.parse(await fsp.readFile(file, "utf8")) as MemoFile;
        if (data.v === version && data.root === root && data.requests && typeof data.requests === "object") requests = data.requests;
      } catch {
        // none yet, or unreadable: start empty
      }
    }
    return new DigestMemo(file, version, root, requests);
  }

  get(key: string): MemoEntry | undefined {
    return Object.hasOwn(this.requests, key) ? this.requests[key] : undefined;
  }

  set(key: string, entry: MemoEntry): void {
    this.requests[key] = entry;
    this.#dirty = true;
  }

  /** Writes the memo if it learnt something; an unwritable location is ignored (it only saves time). */
  async save(): Promise<void> {
    if (!this.file || !this.#dirty) return;
    const data: MemoFile = { v: this.version, root: this.root, requests: this.requests };
    try {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      await cleanStaleTemps(this.file);
      await writeFileAtomic(this.file, JSON.stringify(data));
      this.#dirty = false;
    } catch (err) {
      if (!["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
    }
  }
}

/** The memo's file beside a stat cache file. */
export const memoFileOf = (statCacheFile: string) => statCacheFile.replace(/\.json$/, "") + ".digests.json";
