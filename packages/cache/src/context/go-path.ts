// Go's path semantics where Docker's behaviour depends on them: filepath.Clean,
// filepath.Dir and strings.TrimSpace (which, unlike String.prototype.trim, keeps a BOM).

/** Go's `filepath.Clean` on a slash-separated path. */
export function goClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const s = (rooted ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

/** Go's `filepath.Dir` on a slash-separated path. */
export function goDir(p: string): string {
  const i = p.lastIndexOf("/");
  return goClean(i < 0 ? "." : p.slice(0, i + 1));
}

// Unicode White_Space, as Go's unicode.IsSpace sees it (no U+FEFF).
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const TRIM_RE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  return s.replace(TRIM_RE, "");
}

/**
 * A context-relative path in canonical form: cleaned, no leading "/" or "./", ".."
 * clamped at the root (as BuildKit does for COPY sources); "" is the context root.
 */
export function normalizeContextPath(p: string): string {
  const c = goClean(`/${p}`);
  return c === "/" ? "" : c.slice(1);
}
