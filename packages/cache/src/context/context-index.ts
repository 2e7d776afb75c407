// hashContext: the builder's view of a build context — every non-ignored entry with
// its metadata, and content digests of any selection of paths, backed by the
// persistent stat cache so unchanged files are never read twice.
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Digest } from "@tbuild/oci";
import { ContextError } from "../errors.js";
import { defaultStoreRoot, Layout } from "../store/layout.js";
import { fingerprintOf, hashFile } from "./file-hasher.js";
import { normalizeContextPath } from "./go-path.js";
import { readIgnoreSpec } from "./ignore-file.js";
import { PatternMatcher, type MatchInfo } from "./pattern-matcher.js";
import { DigestMemo, memoFileOf, requestKey } from "./digest-memo.js";
import { DIGEST_VERSION, digestRecord } from "./digest-record.js";
import { coverageOf, memoEntryFor, servedFromMemo, type CoverageSource } from "./memo-coverage.js";
import { StatCache } from "./stat-cache.js";
import { walkContext, type ContextEntry, type WalkOutput } from "./walk.js";

export type { ContextEntry };

export interface HashContextOptions {
  /** Path of the Dockerfile (relative to the context or absolute); selects `<name>.dockerignore`. */
  dockerfile?: string;
  /** Exclude patterns to use instead of the ignore file. */
  excludes?: string[];
  /** File of the persistent stat cache; `false` for none. Default: `<store root>/contexts/<sha256(root)>.json`. */
  statCache?: string | false;
}

/** Counters for tests and benchmarks. */
export interface ContextHashStats {
  /** Files whose content was read and hashed. */
  filesHashed: number;
  bytesHashed: number;
  /** Content hashes served from the stat cache. */
  cacheHits: number;
  /** Digests served from the digest memo (the context unchanged since they were taken). */
  memoHits: number;
}

/** The indexed build context. */
export interface ContextIndex {
  /** Real path of the context directory. */
  readonly root: string;
  /** The ignore file that was applied, if any. */
  readonly ignoreFile: string | undefined;
  /** The exclude patterns in effect. */
  readonly excludes: readonly string[];
  readonly stats: Readonly<ContextHashStats>;
  /** Every non-ignored entry, sorted by path (directories included; the root is not). */
  entries(): ReadonlyMap<string, ContextEntry>;
  /** One entry; "" or "." is the context root. */
  get(path: string): ContextEntry | undefined;
  /** Direct children (non-ignored) of a directory, sorted; "" or "." for the root. */
  children(dirPath: string): string[];
  /** sha256 of a regular file's content, via the stat cache. */
  contentHash(path: string): Promise<Digest>;
  /**
   * Digest of exactly these paths and everything under them: relative path, type,
   * mode, uid/gid, size, content hash or symlink target. Independent of walk order and
   * of timestamps. `excludes` are COPY --exclude patterns, matched relative to each
   * requested directory (the requested paths themselves are never excluded).
   */
  digest(paths: string[], opts?: { excludes?: string[] }): Promise<Digest>;
  /** The entries `digest(paths, opts)` covers, sorted (what COPY would copy). */
  select(paths: string[], opts?: { excludes?: string[] }): ContextEntry[];
  /** Persists the stat cache (atomic write). */
  save(): Promise<void>;
}

/** Concurrent content reads (big files are streamed asynchronously). */
const HASH_CONCURRENCY = 4;

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The sorted views of the entries, made on first use: a no-op rebuild whose digests the memo has needs none. */
interface Tree {
  /** Every path, sorted. */
  sorted: string[];
  entries: Map<string, ContextEntry>;
  children: Map<string, string[]>;
}

/** The first index in `sorted` whose path is not below `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedTree(walked: Map<string, ContextEntry>): Tree {
  const sorted = [...walked.keys()].sort(byPath);
  const entries = new Map(sorted.map((p) => [p, walked.get(p)!]));
  const children = new Map<string, string[]>([["", []]]);
  for (const p of sorted) {
    const i = p.lastIndexOf("/");
    const parent = i < 0 ? "" : p.slice(0, i);
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(p);
  }
  return { sorted, entries, children };
}

class Index implements ContextIndex {
  readonly stats: ContextHashStats = { filesHashed: 0, bytesHashed: 0, cacheHits: 0, memoHits: 0 };
  #tree: Tree | undefined;
  #cache: StatCache | undefined;
  #cacheLoading: Promise<StatCache> | undefined;
  readonly #inflight = new Map<string, Promise<Digest>>();
  readonly #hashes = new Map<string, Digest>();
  /** Files whose hash was racily clean or whose stat changed since the walk. */
  readonly #unvouched = new Set<string>();

  constructor(
    readonly root: string,
    readonly ignoreFile: string | undefined,
    readonly excludes: readonly string[],
    /** The walk: entries made on demand (walk.ts). */
    private readonly walk: WalkOutput,
    private readonly cacheFile: string | undefined,
    private readonly memo: DigestMemo,
  ) {}

  get rootEntry(): ContextEntry {
    return this.walk.rootEntry;
  }

  get #sorted(): Tree {
    return (this.#tree ??= sortedTree(this.walk.entries));
  }

  /** The stat cache, loaded when a content hash is first needed. */
  async #statCache(): Promise<StatCache> {
    this.#cacheLoading ??= StatCache.load(this.cacheFile, this.root).then((c) => (this.#cache = c));
    return this.#cacheLoading;
  }

  entries(): ReadonlyMap<string, ContextEntry> {
    return this.#sorted.entries;
  }

  get(p: string): ContextEntry | undefined {
    const n = normalizeContextPath(p);
    return this.walk.get(n);
  }

  children(dirPath: string): string[] {
    const n = normalizeContextPath(dirPath);
    const e = this.get(n);
    if (!e || e.type !== "dir") return [];
    return [...(this.#sorted.children.get(n) ?? [])];
  }

  async contentHash(p: string): Promise<Digest> {
    await this.#statCache();
    return this.#contentHash(normalizeContextPath(p), p);
  }

  /** Needs the stat cache loaded (#statCache). */
  #contentHash(rel: string, shown: string): Promise<Digest> {
    const known = this.#hashes.get(rel) ?? this.#fromCache(rel);
    if (known) return Promise.resolve(known);
    const running = this.#inflight.get(rel);
    if (running) return running;
    const entry = this.walk.get(rel);
    if (!entry || rel === "") return Promise.reject(notFound(this.root, shown));
    if (entry.type !== "file") {
      return Promise.reject(new ContextError("ERR_NOT_A_FILE", `${shown} in the build context is not a regular file`, shown));
    }
    const promise = this.#hash(rel, entry).finally(() => this.#inflight.delete(rel));
    this.#inflight.set(rel, promise);
    return promise;
  }

  /** The hash from the stat cache when the file's fingerprint is unchanged (synchronous). */
  #fromCache(rel: string): Digest | undefined {
    const fp = this.walk.fingerprint(rel);
    const cached = fp === undefined ? undefined : this.#cache!.get(rel, fp);
    if (cached === undefined) return undefined;
    this.stats.cacheHits++;
    const d: Digest = `sha256:${cached}`;
    this.#hashes.set(rel, d);
    return d;
  }

  async #hash(rel: string, entry: ContextEntry): Promise<Digest> {
    const walked = this.walk.fingerprint(rel);
    const res = await hashFile(path.join(this.root, rel), walked === undefined ? undefined : { fingerprint: walked, size: entry.size });
    this.stats.filesHashed++;
    this.stats.bytesHashed += Number(res.stat.size);
    const fp = fingerprintOf(res.stat);
    // The memo may not vouch for a digest built on this hash (digest-memo.ts).
    if (!res.trusted || fp !== walked) this.#unvouched.add(rel);
    if (fp !== walked) {
      // Changed since the walk: describe what we actually hashed.
      entry.size = Number(res.stat.size);
      entry.mtimeNs = res.stat.mtimeNs;
      entry.mode = Number(res.stat.mode);
      entry.uid = Number(res.stat.uid);
      entry.gid = Number(res.stat.gid);
      this.walk.refingerprint(rel, fp);
    }
    if (res.trusted) this.#cache!.set(rel, fp, res.hash, Number(res.stat.size));
    else this.#cache!.delete(rel);
    const d: Digest = `sha256:${res.hash}`;
    this.#hashes.set(rel, d);
    return d;
  }

  select(paths: string[], opts: { excludes?: string[] } = {}): ContextEntry[] {
    const matcher = opts.excludes && opts.excludes.length > 0 ? new PatternMatcher(opts.excludes, "--exclude") : undefined;
    if (!matcher && paths.length === 1) return this.#selectOne(paths[0]!);
    const chosen = new Map<string, ContextEntry>();
    for (const p of paths) {
      const rel = normalizeContextPath(p);
      const top = this.get(rel);
      if (!top) throw notFound(this.root, p);
      chosen.set(rel, top);
      if (top.type === "dir") this.#addBelow(rel, rel, undefined, matcher, chosen, []);
    }
    return [...chosen.keys()].sort(byPath).map((k) => chosen.get(k)!);
  }

  /**
   * One path and everything below it, without excludes: the path, then the sorted paths that
   * start with "path/" — a contiguous run of the sorted list (a 20,000-entry selection
   * without a tree walk, a map and a second sort).
   */
  #selectOne(p: string): ContextEntry[] {
    const rel = normalizeContextPath(p);
    const top = this.get(rel);
    if (!top) throw notFound(this.root, p);
    if (top.type !== "dir") return [top];
    const { sorted, entries } = this.#sorted;
    // Below "rel/" and before "rel0" ("0" follows "/"): exactly the paths under rel.
    const from = rel === "" ? 0 : lowerBound(sorted, `${rel}/`);
    const to = rel === "" ? sorted.length : lowerBound(sorted, `${rel}0`);
    const out: ContextEntry[] = [top];
    for (let i = from; i < to; i++) out.push(entries.get(sorted[i]!)!);
    return out;
  }

  /** Adds the subtree of `dir`, applying `--exclude` patterns relative to `base` (copy semantics). */
  #addBelow(base: string, dir: string, info: MatchInfo | undefined, m: PatternMatcher | undefined, out: Map<string, ContextEntry>, heldParents: ContextEntry[]): void {
    const tree = this.#sorted;
    for (const child of tree.children.get(dir) ?? []) {
      const e = tree.entries.get(child)!;
      if (!m) {
        out.set(child, e);
        if (e.type === "dir") this.#addBelow(base, child, undefined, m, out, heldParents);
        continue;
      }
      const rel = base === "" ? child : child.slice(base.length + 1);
      const r = m.matchesUsingParentResults(rel, info);
      if (r.matched) {
        // Excluded: a directory is still entered when an exception may re-include
        // something below it, and is copied only if something is.
        if (e.type === "dir" && m.hasExclusions) this.#addBelow(base, child, r.info, m, out, [...heldParents, e]);
        continue;
      }
      for (const h of heldParents) out.set(h.path, h);
      heldParents = [];
      out.set(child, e);
      if (e.type === "dir") this.#addBelow(base, child, r.info, m, out, []);
    }
  }

  async digest(paths: string[], opts: { excludes?: string[] } = {}): Promise<Digest> {
    // COPY --exclude selections are not remembered (digest-memo.ts).
    const remember = !opts.excludes?.length;
    const key = requestKey(paths);
    const covered = remember ? coverageOf(this.walk, paths.map(normalizeContextPath)) : undefined;
    const known = covered && (await servedFromMemo(this.#memoSource, this.memo, key, covered));
    if (known) {
      this.stats.memoHits++;
      return known;
    }
    const selected = this.select(paths, opts);
    const d = await this.#digest(selected);
    if (covered && !selected.some((e) => this.#unvouched.has(e.path))) this.memo.set(key, await memoEntryFor(this.#memoSource, d, covered));
    return d;
  }

  /** What the digest memo's checks need of this index (memo-coverage.ts). */
  get #memoSource(): CoverageSource {
    return {
      walk: this.walk,
      contentHash: (rel) => this.#hashes.get(rel) ?? this.contentHash(rel),
      vouches: (rel) => !this.#unvouched.has(rel),
    };
  }

  async #digest(selected: ContextEntry[]): Promise<Digest> {
    await this.#statCache();
    // Hash contents first (stat-cache hits synchronously, misses with bounded
    // concurrency), then feed records in path order.
    const files = selected.filter((e) => e.type === "file" && !this.#hashes.has(e.path) && this.#fromCache(e.path) === undefined);
    let next = 0;
    let sliceStart = performance.now();
    const worker = async () => {
      while (next < files.length) {
        const e = files[next++]!;
        await this.#contentHash(e.path, e.path);
        if (performance.now() - sliceStart > 10) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
    };
    await Promise.all(Array.from({ length: HASH_CONCURRENCY }, worker));
    const h = createHash("sha256");
    let buf = `${DIGEST_VERSION}\0`;
    for (const e of selected) {
      buf += digestRecord(e, this.#hashes.get(e.path));
      if (buf.length > 65536) {
        h.update(buf);
        buf = "";
      }
    }
    h.update(buf);
    return `sha256:${h.digest("hex")}`;
  }

  async save(): Promise<void> {
    await Promise.all([this.#cache?.save(), this.memo.save()]);
  }
}

function notFound(root: string, p: string): ContextError {
  return new ContextError("ERR_CONTEXT_NOT_FOUND", `"${p}" not found in the build context ${root} (or excluded by .dockerignore)`, p);
}

/**
 * Walks and indexes a build context with Docker's `.dockerignore` rules. Content is
 * hashed lazily (only what `contentHash`/`digest` ask for) and cached by stat
 * fingerprint across runs.
 */
export async function hashContext(dir: string, opts: HashContextOptions = {}): Promise<ContextIndex> {
  let root: string;
  try {
    root = await fsp.realpath(dir);
    if (!(await fsp.stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (e) {
    throw new ContextError("ERR_CONTEXT_MISSING", `build context ${dir} is not a readable directory: ${(e as Error).message}`, dir, { cause: e });
  }
  let ignoreFile: string | undefined;
  let excludes: string[];
  if (opts.excludes) {
    excludes = opts.excludes;
  } else {
    const spec = await readIgnoreSpec(root, opts.dockerfile ? path.resolve(dir, opts.dockerfile) : undefined);
    ignoreFile = spec.file;
    excludes = spec.patterns;
  }
  const matcher = new PatternMatcher(excludes, ignoreFile ? path.basename(ignoreFile) : "excludes");
  const cacheFile = opts.statCache === false ? undefined : opts.statCache ?? new Layout(defaultStoreRoot()).contextStatCache(root);
  const walk = await walkContext(root, matcher);
  const memo = await DigestMemo.load(cacheFile && memoFileOf(cacheFile), DIGEST_VERSION, root);
  return new Index(root, ignoreFile, excludes, walk, cacheFile, memo);
}
