// Which source entries a COPY/ADD reads, decided before anything is written, so the builder
// can compute the cache key from exactly these entries and the copy writes exactly them.
// The rules are BuildKit's (dockerfile2llb dispatchCopy + fsutil copy):
//  - a source word is cleaned into the source root (leading "/" and "../" go away);
//  - wildcards (Go filepath.Match per component) are resolved below the literal part of the
//    word, which may itself pass through symlinks; directories that match are not entered;
//    no match is no error for that word;
//  - a match that is a symlink is followed inside the source root; it keeps its own name;
//  - a directory is copied with its contents; --exclude patterns apply to paths below it;
//  - --parents copies from the pivot (the part before "/./", else the root) with the rest
//    of the word as an include pattern, creating the directories that lead to each match.
import { baseName, cleanPath, joinPath } from "../fs/container-path.js";
import type { LayeredView } from "../fs/layered-view.js";
import { FileOpError } from "./errors.js";
import { BadPatternError, containsWildcards, goMatch, PatternMatcher, splitWildcards, type MatchInfo } from "@tbuild/cache";
import { contextTree, viewTree, type SourceEntry, type SourceTree } from "./source-tree.js";
import type { ContextIndex } from "./context-index.js";
import { parseGitRef } from "./git-ref.js";

/** Where a COPY/ADD reads from. */
export type CopySource =
  | { kind: "context"; index: ContextIndex }
  /** COPY --from=stage|image; `name` is used in messages. */
  | { kind: "view"; view: LayeredView; name?: string };

export interface SelectedItem {
  /** Path relative to the copied root ("" for the root itself): where it lands below the destination. */
  rel: string;
  entry: SourceEntry;
  /** "parent": a directory created only to hold included entries (--parents). */
  role: "copy" | "parent";
}

export interface SelectedSource {
  /** The source word as written. */
  source: string;
  /** The matched path before a top-level symlink was followed. */
  matchPath: string;
  /** The name the entry takes inside a destination directory (base of matchPath). */
  name: string;
  /** The entry that is copied (symlinks followed), a directory's contents included. */
  root: SourceEntry;
  /** Everything read, parents before children, names in byte order; items[0] is the root. */
  items: SelectedItem[];
  /** True if the word held wildcards (or --parents): several matches may come from it. */
  wildcard: boolean;
}

export interface SelectOptions {
  parents: boolean;
  excludes: string[];
  /** For messages ("COPY failed: …"). */
  op?: "copy" | "add";
  signal?: AbortSignal;
}

/** The SourceTree behind a CopySource (cached per index/view object). */
const trees = new WeakMap<object, SourceTree>();
export function sourceTree(from: CopySource): SourceTree {
  const key = from.kind === "context" ? from.index : from.view;
  let tree = trees.get(key);
  if (!tree) {
    tree = from.kind === "context" ? contextTree(from.index) : viewTree(from.view, from.name);
    trees.set(key, tree);
  }
  return tree;
}

function notFound(tree: SourceTree, op: string, word: string, detail?: string): FileOpError {
  const what = detail ?? word;
  return new FileOpError(
    "NOT_FOUND",
    tree.kind === "context"
      ? `${op} failed: file not found in build context or excluded by .dockerignore: stat ${what}: file does not exist`
      : `${op} failed: stat ${what}: file does not exist in ${tree.description}`,
    { source: word },
  );
}

function badPattern(op: string, what: string, e: unknown): FileOpError {
  return new FileOpError("BAD_FLAG", `${op} failed: ${what}: ${(e as Error).message}`, { cause: e });
}

/** Resolves wildcards of a clean absolute source path to the matching paths (final symlinks not followed). */
async function resolveWildcards(tree: SourceTree, src: string, op: string, word: string): Promise<string[]> {
  const { base, pattern } = splitWildcards(src);
  if (pattern === "") return [src];
  const resolvedBase = await tree.resolve(base, true);
  const baseEntry = await tree.lstat(resolvedBase);
  if (!baseEntry) throw notFound(tree, op, word, base === "/" ? "/" : base.slice(1));
  const depth = pattern.split("/").length;
  const out: string[] = [];
  const walk = async (dir: string, rel: string, level: number): Promise<void> => {
    for (const name of await tree.readdir(dir)) {
      const childRel = rel === "" ? name : rel + "/" + name;
      const child = joinPath(dir, name);
      let matched: boolean;
      try {
        matched = goMatch(pattern, childRel);
      } catch (e) {
        if (e instanceof BadPatternError) throw badPattern(op, `source ${word}`, e);
        throw e;
      }
      const st = await tree.lstat(child);
      if (!st) continue;
      if (matched) out.push(child);
      else if (st.type === "dir" && level + 1 < depth) await walk(child, childRel, level + 1);
    }
  };
  if (baseEntry.type === "dir") await walk(resolvedBase, "", 0);
  return out;
}

/** Walks a copied directory applying include (--parents) and exclude patterns, fsutil-style. */
async function walkTree(
  tree: SourceTree,
  root: SourceEntry,
  include: PatternMatcher | undefined,
  exclude: PatternMatcher | undefined,
  signal: AbortSignal | undefined,
): Promise<SelectedItem[]> {
  const items: SelectedItem[] = [{ rel: "", entry: root, role: "copy" }];
  if (root.type !== "dir") return items;
  // Directories not included themselves, waiting for an included descendant.
  const pending: SelectedItem[] = [];
  const emit = (item: SelectedItem) => {
    for (const p of pending) items.push(p);
    pending.length = 0;
    items.push(item);
  };
  const visit = async (dir: SourceEntry, rel: string, incInfo: MatchInfo | undefined, excInfo: MatchInfo | undefined): Promise<void> => {
    if (signal?.aborted) throw new FileOpError("ABORTED", "the file operation was cancelled");
    for (const name of await tree.readdir(dir.path)) {
      const childRel = rel === "" ? name : rel + "/" + name;
      let included = true;
      let excluded = false;
      let childInc: MatchInfo | undefined;
      let childExc: MatchInfo | undefined;
      if (include) {
        const r = include.matchesUsingParentResults(childRel, incInfo);
        included = r.matched;
        childInc = r.info;
      }
      if (exclude) {
        const r = exclude.matchesUsingParentResults(childRel, excInfo);
        excluded = r.matched;
        childExc = r.info;
        if (excluded) included = false;
      }
      if (!included && !include && !exclude?.hasExclusions) continue;
      const entry = await tree.lstat(dir.path === "/" ? "/" + name : dir.path + "/" + name);
      if (!entry) continue;
      if (entry.type !== "dir") {
        if (included) emit({ rel: childRel, entry, role: "copy" });
        continue;
      }
      const item: SelectedItem = { rel: childRel, entry, role: included ? "copy" : "parent" };
      const depthBefore = pending.length;
      if (included) emit(item);
      else pending.push(item);
      if (!(excluded && !exclude?.hasExclusions)) await visit(entry, childRel, childInc, childExc);
      // An unneeded parent candidate (no included descendant) is dropped.
      if (pending.length > depthBefore) pending.length = depthBefore;
    }
  };
  await visit(root, "", undefined, undefined);
  return items;
}

function matcher(patterns: string[], op: string, flag: string): PatternMatcher | undefined {
  const nonEmpty = patterns.filter((p) => p.trim() !== "");
  if (nonEmpty.length === 0) return undefined;
  try {
    return new PatternMatcher(nonEmpty, flag);
  } catch (e) {
    // The matcher's message names the flag, the pattern and what is wrong with it.
    throw new FileOpError("BAD_FLAG", `${op} failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Selects what one source word reads. */
export async function selectWord(tree: SourceTree, word: string, opts: SelectOptions): Promise<SelectedSource[]> {
  const op = (opts.op ?? "copy").toUpperCase();
  const exclude = matcher(opts.excludes, op, "--exclude");
  let src = word;
  let include: PatternMatcher | undefined;
  let wildcard = containsWildcards(word);
  if (opts.parents) {
    const pivot = word.indexOf("/./");
    const pattern = pivot < 0 ? word : word.slice(pivot + 3);
    src = pivot < 0 ? "/" : word.slice(0, pivot);
    const cleanPattern = cleanPath(pattern).slice(1);
    include = matcher([cleanPattern], op, "--parents source");
    wildcard = true;
    if (!containsWildcards(src) && !containsWildcards(pattern)) {
      const required = joinPath(cleanPath(src), cleanPattern);
      if (!(await tree.lstat(await tree.resolve(required, true)))) throw notFound(tree, op, word, required.slice(1) || "/");
    }
  }
  const clean = cleanPath(src);
  const matches = await resolveWildcards(tree, clean, op, word);
  const baseDir = splitWildcards(clean).base;
  const out: SelectedSource[] = [];
  for (const matchPath of matches) {
    // Matches of a wildcard are subject to --exclude as paths below the wildcard's base.
    if (exclude && matchPath !== clean) {
      const rel = baseDir === "/" ? matchPath.slice(1) : matchPath.slice(baseDir.length + 1);
      if (exclude.matchesUsingParentResults(rel, undefined).matched) continue;
    }
    const resolved = await tree.resolve(matchPath, true);
    const root = await tree.lstat(resolved);
    if (!root) throw notFound(tree, op, word, matchPath === "/" ? "/" : matchPath.slice(1));
    const items = await walkTree(tree, root, include, exclude, opts.signal);
    out.push({ source: word, matchPath, name: baseName(matchPath), root, items, wildcard });
  }
  return out;
}

/**
 * The exact source entries a COPY/ADD reads: wildcards resolved, directories expanded,
 * --exclude and --parents applied, in the order the copy writes them. The builder digests
 * these for the cache key. Throws FileOpError NOT_FOUND for a missing non-wildcard source.
 * URL and git words are skipped.
 */
export async function selectSources(from: CopySource, sources: string[], opts: SelectOptions): Promise<SelectedSource[]> {
  const tree = sourceTree(from);
  const out: SelectedSource[] = [];
  for (const word of sources) {
    // URL and git sources are fetched, not selected (key them by URL/checksum or commit).
    if (/^https?:\/\//i.test(word) || parseGitRef(word)) continue;
    out.push(...(await selectWord(tree, word, opts)));
  }
  return out;
}
