// Git sources of ADD, recognised and parsed the way BuildKit's Dockerfile frontend does
// (dfgitutil.ParseGitRef): http(s) URLs whose path ends in .git, git:// and ssh:// URLs,
// and scp-style user@host:path; a fragment "#ref:subdir" and/or query parameters
// (ref, tag, branch, subdir, checksum|commit, keep-git-dir, submodules, mtime) select what
// is checked out. "github.com/…" without a scheme stays a local path, as in BuildKit.
import { FileOpError } from "./errors.js";

export interface GitRef {
  /** What `git clone` is given: the URL without fragment and query. */
  remote: string;
  /** Branch, tag, full ref or commit; "" for the remote's default branch. */
  ref: string;
  /** Directory inside the repository whose contents are copied ("" for all). */
  subdir: string;
  checksum?: string;
  keepGitDir?: boolean;
  submodules?: boolean;
  mtime?: "checkout" | "commit";
}

const SCP = /^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$/;
const PROTO = /^([a-zA-Z0-9]+):\/\//;
const SUPPORTED = new Set(["http", "https", "ssh", "git"]);

function bad(message: string): FileOpError {
  return new FileOpError("BAD_FLAG", message);
}

function parseFragment(fragment: string): { ref: string; subdir: string } {
  const colon = fragment.indexOf(":");
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const sub = colon < 0 ? "" : fragment.slice(colon + 1);
  const cleaned = sub.split("/").filter((p) => p !== "" && p !== ".");
  const out: string[] = [];
  for (const p of cleaned) {
    if (p === "..") out.pop();
    else out.push(p);
  }
  return { ref, subdir: out.join("/") };
}

function parseBool(key: string, value: string): boolean {
  if (value === "") return true;
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  throw bad(`invalid ${key} value: ${JSON.stringify(value)}`);
}

function applyQuery(ref: GitRef, query: URLSearchParams): void {
  let tag = "";
  let branch = "";
  const seen = new Set<string>();
  for (const [key, value] of query) {
    if (seen.has(key)) throw bad(`query ${JSON.stringify(key)} has multiple values`);
    seen.add(key);
    if (value === "" && !["submodules", "keep-git-dir", "fetch-by-commit"].includes(key)) throw bad(`query ${JSON.stringify(key)} has no value`);
    switch (key) {
      case "ref":
        if (ref.ref !== "" && ref.ref !== value) throw bad(`ref conflicts: ${JSON.stringify(ref.ref)} vs ${JSON.stringify(value)}`);
        ref.ref = value;
        break;
      case "tag": tag = value; break;
      case "branch": branch = value; break;
      case "subdir": {
        const sub = parseFragment(":" + value).subdir;
        if (ref.subdir !== "" && ref.subdir !== sub) throw bad(`subdir conflicts: ${JSON.stringify(ref.subdir)} vs ${JSON.stringify(value)}`);
        ref.subdir = sub;
        break;
      }
      case "checksum":
      case "commit": ref.checksum = value; break;
      case "keep-git-dir": ref.keepGitDir = parseBool(key, value); break;
      case "submodules": ref.submodules = parseBool(key, value); break;
      case "fetch-by-commit": break;
      case "mtime":
        if (value !== "checkout" && value !== "commit") throw bad(`invalid mtime value: ${JSON.stringify(value)} (must be "checkout" or "commit")`);
        ref.mtime = value;
        break;
      default:
        throw bad(`unexpected query ${JSON.stringify(key)}`);
    }
  }
  if (tag !== "" && branch !== "") throw bad(`tag and branch cannot both be given`);
  const named = tag !== "" ? `refs/tags/${tag}` : branch !== "" ? `refs/heads/${branch}` : "";
  if (named !== "") {
    if (ref.ref !== "" && ref.ref !== named && ref.ref !== (tag || branch)) throw bad(`ref conflicts: ${JSON.stringify(ref.ref)} vs ${JSON.stringify(named)}`);
    ref.ref = named;
  }
}

/** Parses a source word as a git reference; undefined if it is not a git source. */
export function parseGitRef(src: string): GitRef | undefined {
  if (src.startsWith("./") || src.startsWith("../") || src.startsWith("github.com/")) return undefined;
  const proto = PROTO.exec(src)?.[1]?.toLowerCase();
  if (proto !== undefined) {
    if (!SUPPORTED.has(proto)) return undefined;
    let url: URL;
    try {
      url = new URL(src);
    } catch {
      return undefined;
    }
    if ((proto === "http" || proto === "https") && !decodeURIComponent(url.pathname).endsWith(".git")) return undefined;
    const { ref, subdir } = parseFragment(decodeURIComponent(url.hash.slice(1)));
    const query = new URLSearchParams(url.search);
    url.hash = "";
    url.search = "";
    const out: GitRef = { remote: url.toString(), ref, subdir };
    applyQuery(out, query);
    return out;
  }
  const m = SCP.exec(src);
  if (!m) return undefined;
  const { ref, subdir } = parseFragment(m[5] ?? "");
  const out: GitRef = { remote: `${m[1]}@${m[2]}:${m[3]}`, ref, subdir };
  applyQuery(out, new URLSearchParams(m[4] ?? ""));
  return out;
}
