// Walking a build context with BuildKit's filtering rules: an excluded file is
// skipped; an excluded directory is still walked when an exception might re-include
// something below it, and is listed only if something below it is included (as
// BuildKit's filtered walker emits parents lazily). Symlinks are never followed.
//
// Synchronous listing on purpose (dir-stats.ts: one addon call per directory, else
// readdir/lstat): for tens of thousands of entries the promise API measured ~4x slower (each
// call is a thread-pool round trip). The walk yields to the event loop every few milliseconds.
//
// The walk decides what is included and keeps each directory's listing; the entries are made
// from it when first asked for, a directory at a time. A rebuild whose digests the memo
// serves (digest-memo.ts) asks for a handful: per file, the walk reads only its mode.
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { ContextError } from "../errors.js";
import { entryStatOf, listDir, type DirListing, type EntryStat } from "./dir-stats.js";
import type { MatchInfo, PatternMatcher } from "./pattern-matcher.js";

/** One entry of a build context. */
export interface ContextEntry {
  /** Relative, "/"-separated, no leading "./" ("" for the context root). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** st_mode including the file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  linkTarget?: string;
  dev: number;
  ino: number;
}

/** One walked directory: its listing and which of its entries are included. */
interface WalkedDir {
  listing: DirListing;
  included: number[];
}

/** The walked context: entries made on demand from the directories' listings. */
export class WalkOutput {
  readonly #made = new Map<string, Map<string, ContextEntry>>();
  readonly #fingerprints = new Map<string, string>();
  readonly #states = new Map<string, string>();
  #all: Map<string, ContextEntry> | undefined;

  constructor(
    readonly rootEntry: ContextEntry,
    /** The root ("") and every included directory, in walk order. */
    private readonly dirs: Map<string, WalkedDir>,
    /** Link targets of included symlinks, read during the walk. */
    private readonly links: Map<string, string>,
  ) {}

  /**
   * For the root ("") and every included directory, a hash of its listing (names and stats of
   * its entries as listed): what its children's records depend on (digest-memo.ts).
   */
  dirState(dir: string): string | undefined {
    let state = this.#states.get(dir);
    if (state === undefined) {
      state = this.dirs.get(dir)?.listing.state();
      if (state !== undefined) this.#states.set(dir, state);
    }
    return state;
  }

  /** The root ("") and every included directory. */
  dirPaths(): IterableIterator<string> {
    return this.dirs.keys();
  }

  /** The included entries of directory `dir` ("" for the root), by path; undefined for no included directory. */
  entriesIn(dir: string): Map<string, ContextEntry> | undefined {
    let made = this.#made.get(dir);
    if (made) return made;
    const d = this.dirs.get(dir);
    if (!d) return undefined;
    made = new Map();
    for (const i of d.included) {
      const name = d.listing.names[i]!;
      const rel = dir === "" ? name : `${dir}/${name}`;
      const st = d.listing.stat(i);
      const e = toEntry(rel, st, this.links.get(rel));
      made.set(rel, e);
      // Only the fingerprint string is kept of the stat: fewer long-lived allocations.
      if (e.type === "file") this.#fingerprints.set(rel, st.fingerprint);
    }
    this.#made.set(dir, made);
    return made;
  }

  /** One entry; "" is the root. */
  get(rel: string): ContextEntry | undefined {
    if (rel === "") return this.rootEntry;
    const i = rel.lastIndexOf("/");
    return this.entriesIn(i < 0 ? "" : rel.slice(0, i))?.get(rel);
  }

  /** The stat fingerprint of an included regular file as walked (see `fingerprintOf`). */
  fingerprint(rel: string): string | undefined {
    this.get(rel);
    return this.#fingerprints.get(rel);
  }

  /** Records that `rel` was found changed after the walk (its entry is updated by the caller). */
  refingerprint(rel: string, fingerprint: string): void {
    this.#fingerprints.set(rel, fingerprint);
  }

  /** Every included entry (root excluded), in walk order. */
  get entries(): Map<string, ContextEntry> {
    if (!this.#all) {
      this.#all = new Map();
      for (const dir of this.dirs.keys()) for (const [rel, e] of this.entriesIn(dir)!) this.#all.set(rel, e);
    }
    return this.#all;
  }
}

const TYPES: Record<number, ContextEntry["type"]> = { 0o100000: "file", 0o040000: "dir", 0o120000: "symlink" };
/** The entry type of an st_mode (its S_IFMT bits). */
const typeOfMode = (mode: number): ContextEntry["type"] => TYPES[mode & 0o170000] ?? "other";

/** Builds a ContextEntry from an entry's lstat (and a symlink's target). */
export function toEntry(rel: string, st: EntryStat, linkTarget?: string): ContextEntry {
  const type = typeOfMode(st.mode);
  const e: ContextEntry = { path: rel, type, mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, mtimeNs: st.mtimeNs, dev: st.dev, ino: st.ino };
  if (type === "symlink") e.linkTarget = linkTarget ?? "";
  return e;
}

/** Throws for a directory entry whose name is not valid UTF-8 (a literal U+FFFD passes). */
function checkNamesAreUtf8(absDir: string, rel: string): void {
  for (const raw of readdirSync(absDir, { encoding: "buffer" })) {
    if (Buffer.from(raw.toString("utf8"), "utf8").equals(raw)) continue;
    const shown = [...raw].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
    throw new ContextError("ERR_CONTEXT_NAME", `file name ${rel ? `${rel}/` : ""}${shown} in the build context is not valid UTF-8; rename it or exclude it in .dockerignore`, absDir);
  }
}

interface Pending {
  rel: string;
  info: MatchInfo | undefined;
  excluded: boolean;
}

/** Walks `root` (a real, absolute directory path) applying `matcher` as excludes. */
export async function walkContext(root: string, matcher: PatternMatcher): Promise<WalkOutput> {
  const rootEntry = toEntry("", entryStatOf(lstatSync(root, { bigint: true })));
  const dirs = new Map<string, WalkedDir>();
  const links = new Map<string, string>();
  // Excluded directories we walk into (with their place in their parent's listing), kept to
  // be included if something below is included.
  const heldDirs = new Map<string, { parent: string; index: number }>();
  const useMatcher = !matcher.empty;
  const stack: Pending[] = [{ rel: "", info: undefined, excluded: false }];
  let sliceStart = performance.now();

  /** Includes the excluded ancestors of `rel` that now have an included descendant. */
  const includeHeldAncestors = (rel: string) => {
    let p = rel;
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/")) {
      p = p.slice(0, i);
      const held = heldDirs.get(p);
      if (!held) break; // included already (or the root)
      heldDirs.delete(p);
      dirs.get(held.parent)!.included.push(held.index);
    }
  };

  while (stack.length > 0) {
    const dir = stack.pop()!;
    const absDir = dir.rel === "" ? root : `${root}/${dir.rel}`;
    let listing: DirListing;
    try {
      listing = listDir(absDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (dir.excluded && (code === "EACCES" || code === "EPERM")) continue;
      if (code === "ENOENT") continue; // removed while we walked
      throw new ContextError("ERR_CONTEXT_READ", `cannot read directory ${absDir} of the build context: ${(e as Error).message}`, absDir, { cause: e });
    }
    const walked: WalkedDir = { listing, included: [] };
    dirs.set(dir.rel, walked);
    const names = listing.names;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const rel = dir.rel === "" ? name : `${dir.rel}/${name}`;
      let excluded = false;
      let info: MatchInfo | undefined;
      if (useMatcher) {
        const r = matcher.matchesUsingParentResults(rel, dir.info);
        excluded = r.matched;
        info = r.info;
        // An excluded file is skipped, and so is an excluded directory that no
        // exception can reach into — either way without a stat.
        if (excluded && matcher.canSkipExcludedDir(rel)) continue;
      }
      // Node decodes a name that is not UTF-8 with U+FFFD: such a file could be neither
      // found again nor stored in a layer, so it is an error rather than a silent drop.
      if (!excluded && name.includes("\uFFFD")) checkNamesAreUtf8(absDir, dir.rel);
      let mode: number;
      try {
        mode = listing.mode(i);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        const abs = `${absDir}/${name}`;
        throw new ContextError("ERR_CONTEXT_READ", `cannot stat ${abs} in the build context: ${(e as Error).message}`, abs, { cause: e });
      }
      const type = typeOfMode(mode);
      if (excluded) {
        if (type === "dir") heldDirs.set(rel, { parent: dir.rel, index: i });
      } else {
        if (heldDirs.size > 0) includeHeldAncestors(rel);
        walked.included.push(i);
        if (type === "symlink") links.set(rel, readlinkSync(`${absDir}/${name}`));
      }
      if (type === "dir") stack.push({ rel, info, excluded });
    }
    if (performance.now() - sliceStart > 8) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
  // Held directories nothing below was included in are not part of the context (nor is
  // anything below them: an included entry below would have included them).
  for (const held of heldDirs.keys()) dirs.delete(held);
  return new WalkOutput(rootEntry, dirs, links);
}
