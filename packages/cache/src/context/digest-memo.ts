// The digests a context gave last time, and the state of the context they were taken in: the
// walk's hash of every included entry's path, type, mode, owner and stat fingerprint (walk.ts).
// When the walk finds the same state again, nothing in the context changed that a digest
// covers (a changed file has another size, mtime or ctime, an added or removed one another
// listing), so each digest asked for before is still right, and a no-op rebuild of a 20,000-file
// context neither loads the stat cache nor hashes a 20,000-record listing again (~0.2 s).
//
// A digest is only remembered when every content hash in it can vouch for its file: taken
// from the stat cache, or read now and trusted (file-hasher.ts: not "racily clean", and the
// file's stat unchanged since the walk). A later write to such a file lands in a later
// timestamp tick, so it changes the fingerprint, and with it the state.
//
// Kept beside the stat cache (<store>/contexts/<sha256(root)>.digests.json), small: one state
// and the digests asked for in it.
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { writeFileAtomic } from "../util/fs-util.js";
import { cleanStaleTemps } from "./stat-cache.js";

interface MemoFile {
  v: string;
  root: string;
  state: string;
  digests: Record<string, Digest>;
}

/** The key of one digest request. */
export const requestKey = (paths: readonly string[], excludes: readonly string[] | undefined) => JSON.stringify([paths, excludes ?? []]);

export class DigestMemo {
  #digests: Record<string, Digest>;
  #dirty = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly version: string,
    private readonly root: string,
    /** The walk's state; undefined: nothing is remembered. */
    private readonly state: string | undefined,
    digests: Record<string, Digest>,
  ) {
    this.#digests = digests;
  }

  /** The memo of `root` for the walk's `state` (empty when the file holds another state, version or root). */
  static async load(file: string | undefined, version: string, root: string, state: string | undefined): Promise<DigestMemo> {
    let digests: Record<string, Digest> = {};
    if (file && state) {
      try {
        const data = JSON.parse(await fsp.readFile(file, "utf8")) as MemoFile;
        if (data.v === version && data.root === root && data.state === state && data.digests && typeof data.digests === "object") digests = data.digests;
      } catch {
        // none yet, or unreadable: start empty
      }
    }
    return new DigestMemo(file, version, root, state, digests);
  }

  get(key: string): Digest | undefined {
    return Object.hasOwn(this.#digests, key) ? this.#digests[key] : undefined;
  }

  set(key: string, digest: Digest): void {
    if (!this.state || this.#digests[key] === digest) return;
    this.#digests[key] = digest;
    this.#dirty = true;
  }

  /** Writes the memo if it learnt a digest; an unwritable location is ignored (it only saves time). */
  async save(): Promise<void> {
    if (!this.file || !this.state || !this.#dirty) return;
    const data: MemoFile = { v: this.version, root: this.root, state: this.state, digests: this.#digests };
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
