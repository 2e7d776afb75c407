// Path safety for unpacking untrusted tars: every entry must land inside the target
// directory. Entry names are cleaned lexically (an absolute name is made relative, as Docker
// does; `..` that climbs above the root is refused). Parent directories are then resolved
// component by component with lstat, the way BuildKit's fs.RootPath / securejoin do: a
// symlink on the way is followed only while its target stays inside the root, so nothing is
// ever written through a symlink that points outside.
import { lstatSync, mkdirSync, readlinkSync, type Stats } from "node:fs";
import { OciError } from "../errors.js";

const MAX_LINKS = 40; // as Linux's MAXSYMLINKS

/** Thrown for entries that would escape the target directory. */
export function unsafe(entry: string, why: string): OciError {
  return new OciError("UNSAFE_PATH", `refusing tar entry ${JSON.stringify(entry)}: ${why}. Nothing outside the target directory was touched.`);
}

/**
 * Cleans an archive path into components relative to the root: leading "/" removed, "." and
 * empty components dropped, ".." applied lexically. Throws UNSAFE_PATH if ".." climbs above
 * the root. Returns [] for the root itself.
 */
export function cleanPath(name: string, entry = name): string[] {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) throw unsafe(entry, `the path ${JSON.stringify(name)} climbs out of the target directory with ".."`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

function lstatOrNull(abs: string): Stats | null {
  try {
    return lstatSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Hooks the resolver needs from the extractor's bookkeeping. */
export interface ResolveHooks {
  /** True if a node is about to be created at this real path (deferred special file). */
  isPendingSpecial(realRel: string): boolean;
  /** Called for each directory the resolver had to create. */
  onImplicitDir(realRel: string): void;
}

/**
 * Resolves directory paths inside `root` without ever leaving it; results are cached by their
 * lexical path until `invalidate()` (call it whenever something is removed or replaced).
 */
export class RootResolver {
  private cache = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly hooks: ResolveHooks,
    /** Interpret absolute symlink targets against the root (a chroot view) instead of refusing them. */
    private readonly rootedSymlinks: boolean,
  ) {}

  abs(realRel: string): string {
    return realRel === "" ? this.root : `${this.root}/${realRel}`;
  }

  invalidate(): void {
    this.cache.clear();
  }

  /** Records that the directory at lexical path `lex` is the real directory `realRel`. */
  remember(lex: string, realRel: string): void {
    this.cache.set(lex, realRel);
  }

  /**
   * Resolves the directory at lexical components `comps` to a real path relative to the root.
   * Missing directories are created (mode 0755, like Docker) when `create`, otherwise null is
   * returned. Throws UNSAFE_PATH for symlinks leading out and for non-directories on the way.
   */
  resolveDir(comps: string[], entry: string, create: boolean): string | null {
    const lex = comps.join("/");
    const hit = this.cache.get(lex);
    if (hit !== undefined) return hit;
    const cur: string[] = [];
    const todo = [...comps];
    let links = 0;
    while (todo.length > 0) {
      const c = todo.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        if (cur.length === 0) throw unsafe(entry, "a symlink on its path leads out of the target directory");
        cur.pop();
        continue;
      }
      cur.push(c);
      const rel = cur.join("/");
      if (this.hooks.isPendingSpecial(rel)) throw unsafe(entry, `${JSON.stringify(rel)} on its path is not a directory`);
      const abs = this.abs(rel);
      const st = lstatOrNull(abs);
      if (st === null) {
        if (!create) return null;
        mkdirSync(abs, 0o755);
        this.hooks.onImplicitDir(rel);
      } else if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw unsafe(entry, "too many levels of symbolic links on its path");
        const target = readlinkSync(abs);
        cur.pop();
        if (target.startsWith("/")) {
          if (!this.rootedSymlinks) {
            throw unsafe(entry, `it would be written through the symlink ${JSON.stringify(rel)} → ${JSON.stringify(target)}, which points outside the target directory`);
          }
          cur.length = 0;
        }
        const parts = target.split("/");
        // A relative target that climbs above the root escapes it even though a chroot would clamp it.
        let depth = cur.length;
        for (const p of parts) {
          if (p === "..") depth--;
          else if (p !== "" && p !== ".") depth++;
          if (depth < 0) {
            throw unsafe(entry, `it would be written through the symlink ${JSON.stringify(rel)} → ${JSON.stringify(target)}, which points outside the target directory`);
          }
        }
        todo.unshift(...parts);
      } else if (!st.isDirectory()) {
        throw unsafe(entry, `${JSON.stringify(rel)} on its path is not a directory`);
      }
    }
    const real = cur.join("/");
    this.cache.set(lex, real);
    return real;
  }
}
