// What a remembered digest covers, and whether it is still right (digest-memo.ts says why):
// each requested path's own record, and every directory at or below a requested directory,
// each with its state (as walked) and its content (as the digest takes it).
import { createHash } from "node:crypto";
import type { Digest } from "@tbuild/oci";
import type { MemoEntry, DigestMemo } from "./digest-memo.js";
import { digestRecord } from "./digest-record.js";
import type { ContextEntry, WalkOutput } from "./walk.js";

/** What the checks need of a context index. */
export interface CoverageSource {
  walk: WalkOutput;
  /** A file's content hash (stat cache, or read). */
  contentHash(rel: string): Digest | Promise<Digest>;
  /** Whether the hash of `rel` vouches for its file (not racily clean, unchanged since the walk). */
  vouches(rel: string): boolean;
}

/** The requested paths' entries and the directories at or below the requested directories. */
export interface Coverage {
  tops: Map<string, ContextEntry>;
  dirs: string[];
}

/** What a digest of `paths` (normalized) covers; undefined when one is missing (the digest says so). */
export function coverageOf(walk: WalkOutput, paths: readonly string[]): Coverage | undefined {
  const tops = new Map<string, ContextEntry>();
  for (const rel of paths) {
    const e = walk.get(rel);
    if (!e) return undefined;
    tops.set(rel, e);
  }
  const dirs: string[] = [];
  for (const dir of walk.dirPaths()) {
    for (const [top, e] of tops) {
      if (e.type === "dir" && (top === "" || dir === top || dir.startsWith(`${top}/`))) {
        dirs.push(dir);
        break;
      }
    }
  }
  return { tops, dirs };
}

/** A requested path's own record as the walk saw it. */
function recordState(src: CoverageSource, e: ContextEntry): string {
  return `${e.type}\0${e.mode}\0${e.uid}\0${e.gid}\0${src.walk.fingerprint(e.path) ?? e.linkTarget ?? ""}`;
}

/** An entry's record as the digest takes it (digest-record.ts). */
async function recordContent(src: CoverageSource, e: ContextEntry): Promise<string> {
  return digestRecord(e, e.type === "file" ? await src.contentHash(e.path) : undefined);
}

/** The hash of a directory's included children's records, sorted by path. */
async function dirContent(src: CoverageSource, dir: string): Promise<string> {
  const children = [...src.walk.entriesIn(dir)!.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash("sha256");
  for (const e of children) h.update(await recordContent(src, e));
  return h.digest("hex");
}

/** The memo entry of a digest just computed over `covered`. */
export async function memoEntryFor(src: CoverageSource, digest: Digest, covered: Coverage): Promise<MemoEntry> {
  const entry: MemoEntry = { digest, tops: {}, dirs: {} };
  for (const [p, e] of covered.tops) entry.tops[p] = [recordState(src, e), await recordContent(src, e)];
  for (const dir of covered.dirs) entry.dirs[dir] = [src.walk.dirState(dir)!, await dirContent(src, dir)];
  return entry;
}

/**
 * The remembered digest of `key` when what it covered is unchanged: each record and
 * directory of the same state, or, where the state differs, of the same content (then
 * remembered with its new state, if its hashes vouch for it).
 */
export async function servedFromMemo(src: CoverageSource, memo: DigestMemo, key: string, covered: Coverage): Promise<Digest | undefined> {
  const m = memo.get(key);
  if (!m || Object.keys(m.tops).length !== covered.tops.size || Object.keys(m.dirs).length !== covered.dirs.length) return undefined;
  const renewed: MemoEntry = { digest: m.digest, tops: { ...m.tops }, dirs: { ...m.dirs } };
  let changed = false;
  let vouched = true;
  /** [state, content] to keep; false: changed (not served); undefined: the same state. */
  const check = async (was: [string, string] | undefined, state: string, content: () => Promise<string>, files: () => Iterable<ContextEntry>) => {
    if (!was) return false;
    if (was[0] === state) return undefined;
    if ((await content()) !== was[1]) return false;
    changed = true;
    for (const e of files()) if (!src.vouches(e.path)) vouched = false;
    return [state, was[1]] as [string, string];
  };
  for (const [p, e] of covered.tops) {
    const r = await check(m.tops[p], recordState(src, e), () => recordContent(src, e), () => [e]);
    if (r === false) return undefined;
    if (r) renewed.tops[p] = r;
  }
  for (const dir of covered.dirs) {
    const r = await check(m.dirs[dir], src.walk.dirState(dir)!, () => dirContent(src, dir), () => src.walk.entriesIn(dir)!.values());
    if (r === false) return undefined;
    if (r) renewed.dirs[dir] = r;
  }
  if (changed && vouched) memo.set(key, renewed);
  return m.digest;
}
