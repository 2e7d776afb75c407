// Container paths: always absolute, "/"-separated, lexically clean. These helpers never
// touch the filesystem; symlink-aware resolution lives in resolve-symlinks.ts.

const ALREADY_UNCLEAN = /\/\/|\/\.\.?(\/|$)|\/$/;

/** Go's path.Clean applied to `"/" + p`: an absolute path with no `.`, `..` or empty components; `..` stops at `/`. */
export function cleanPath(p: string): string {
  // Fast path: already clean (absolute, no empty, "." or ".." components, no trailing slash).
  if (p === "/" || (p.charCodeAt(0) === 47 && !ALREADY_UNCLEAN.test(p))) return p;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** The components of a clean container path (`"/"` has none). */
export function pathParts(p: string): string[] {
  const clean = cleanPath(p);
  return clean === "/" ? [] : clean.slice(1).split("/");
}

/** Joins a clean container directory and a relative name or path, cleaning the result. */
export function joinPath(dir: string, rel: string): string {
  return cleanPath(dir + "/" + rel);
}

/** The parent of a clean container path (`"/"` is its own parent). */
export function parentPath(p: string): string {
  const clean = cleanPath(p);
  const i = clean.lastIndexOf("/");
  return i <= 0 ? "/" : clean.slice(0, i);
}

/** The last component of a clean container path (`""` for `"/"`). */
export function baseName(p: string): string {
  const clean = cleanPath(p);
  return clean.slice(clean.lastIndexOf("/") + 1);
}

/** True if `p` is `dir` itself or lies below it (both clean, absolute). */
export function isWithin(dir: string, p: string): boolean {
  return dir === "/" || p === dir || p.startsWith(dir + "/");
}

/** Orders paths by their bytes, as Go's sort.Strings and filepath.Walk do. */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Sorts names in Go byte order (fast path for ASCII, which JS order already matches). */
export function sortNames(names: string[]): string[] {
  // eslint-disable-next-line no-control-regex
  const ascii = names.every((n) => /^[\x00-\x7f]*$/.test(n));
  return ascii ? names.sort() : names.sort(compareBytes);
}
