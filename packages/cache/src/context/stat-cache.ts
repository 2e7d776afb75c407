// The persistent stat cache: for each context file, the stat fingerprint (device,
// inode, size, mtime ns, ctime ns) it had when its content was hashed, and the hash.
// If the fingerprint is unchanged, the content is too, so an unchanged context is
// re-hashed without reading a byte.
//
// "Racily clean" files (git's term) are the catch: a file changed within the same
// timestamp tick as our read would keep its fingerprint. So a hash is only trusted if
// the file's ctime was safely older than the moment we started reading it (see
// file-hasher.ts); otherwise the next run reads the file again (once).
//
// In memory (and on disk) each entry is one string "<fingerprint> <hash> <day last
// seen>" — no per-entry objects and nothing JSON must escape, which keeps loading
// 20,000 entries cheap.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../util/fs-util.js";
import { isOwnerAlive, parseOwnerTag } from "../util/process-info.js";

const VERSION = 3;
/** Entries not seen for this long are dropped on save. */
const MAX_UNSEEN_DAYS = 30;
const HASH_LEN = 64;

/**
 * New hashes for less than 1/SAVE_MIN_PART of the entries (and fewer bytes than
 * SAVE_MIN_BYTES) are not worth rewriting the whole file for (~30 ms for a 20,000-entry
 * cache): those files are read again when next needed, and a rebuild after a touch is served
 * by the digest memo anyway.
 */
const SAVE_MIN_PART = 64;
const SAVE_MIN_BYTES = 8 << 20;

export class StatCache {
  readonly #entries = new Map<string, string>();
  /** Entries seen on another day than recorded: the file is rewritten to keep them. */
  #dirty = false;
  #newHashes = 0;
  #newBytes = 0;
  readonly #today = Math.floor(Date.now() / 86_400_000);

  private constructor(readonly file: string | undefined, readonly root: string) {}

  /** Loads the cache of `root` from `file` (missing, foreign or corrupt files give an empty cache). */
  static async load(file: string | undefined, root: string): Promise<StatCache> {
    const c = new StatCache(file, root);
    if (!file) return c;
    let text: string;
    try {
      text = await fsp.readFile(file, "utf8");
    } catch {
      return c;
    }
    try {
      const data = JSON.parse(text) as { v: number; root: string; e: string[] };
      if (data.v !== VERSION || data.root !== root || !Array.isArray(data.e)) return c;
      const e = data.e;
      for (let i = 0; i + 1 < e.length; i += 2) c.#entries.set(e[i]!, e[i + 1]!);
    } catch {
      /* corrupt: start empty */
    }
    return c;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached hash (hex) of `rel` if its fingerprint is unchanged. */
  get(rel: string, fingerprint: string): string | undefined {
    const v = this.#entries.get(rel);
    const n = fingerprint.length;
    if (v === undefined || v.charCodeAt(n) !== 32 || !v.startsWith(fingerprint)) return undefined;
    const hash = v.slice(n + 1, n + 1 + HASH_LEN);
    if (v.slice(n + 2 + HASH_LEN) !== String(this.#today)) {
      this.#entries.set(rel, `${fingerprint} ${hash} ${this.#today}`);
      this.#dirty = true;
    }
    return hash;
  }

  /** Remembers a freshly computed hash of `size` bytes (only call with trusted, non-racy fingerprints). */
  set(rel: string, fingerprint: string, hash: string, size = 0): void {
    this.#entries.set(rel, `${fingerprint} ${hash} ${this.#today}`);
    this.#newHashes++;
    this.#newBytes += size;
  }

  /** Forgets a path (its content changed while we read it, or it is racily clean); a stale entry is harmless, so this alone does not rewrite the file. */
  delete(rel: string): void {
    this.#entries.delete(rel);
  }

  /**
   * Writes the cache atomically (temp file + rename) when it learnt enough to be worth it, or
   * entries were seen on a new day; an unwritable location is ignored.
   */
  async save(): Promise<void> {
    if (!this.file) return;
    if (!this.#dirty && (this.#newHashes === 0 || (this.#newHashes * SAVE_MIN_PART < this.#entries.size && this.#newBytes < SAVE_MIN_BYTES))) return;
    const e: string[] = [];
    for (const [rel, v] of this.#entries) {
      const seen = Number(v.slice(v.lastIndexOf(" ") + 1));
      if (this.#today - seen > MAX_UNSEEN_DAYS) continue;
      e.push(rel, v);
    }
    try {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      await cleanStaleTemps(this.file);
      await writeFileAtomic(this.file, JSON.stringify({ v: VERSION, root: this.root, e }));
      this.#dirty = false;
      this.#newHashes = 0;
      this.#newBytes = 0;
    } catch (err) {
      // The stat cache only saves time: a read-only or full disk must not fail a build.
      if (!["EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
    }
  }
}

/** Removes temp files of our atomic writes left next to `file` by killed processes. */
export async function cleanStaleTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(".tmp")) continue;
    const m = /^(\d+\.\d+)\./.exec(n.slice(prefix.length));
    const owner = m ? parseOwnerTag(m[1]!) : undefined;
    if (owner && !isOwnerAlive(owner.pid, owner.start)) await fsp.rm(path.join(dir, n), { force: true });
  }
}
