// ADD <git ref>: a checkout made with the git command-line tool (Debian package "git"),
// shaped like BuildKit's git source: the ref's commit (verified against --checksum, a full
// hash or a prefix), submodules unless disabled, no .git directory unless kept, files mode
// 0644 or 0755 and directories 0755 (git records nothing more), mtimes the checkout time or,
// with ?mtime=commit, the commit time.
import { spawn } from "node:child_process";
import { lstat, lutimes, chmod, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FileOpError } from "./errors.js";
import type { GitRef } from "./git-ref.js";

export interface GitOptions {
  /** Whole-operation time limit per git command; default 10 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function redact(remote: string): string {
  return remote.replace(/\/\/[^@/]*@/, "//");
}

function git(args: string[], opts: GitOptions & { cwd?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-c", "advice.detachedHead=false", "-c", "protocol.file.allow=never", ...args], {
      cwd: opts.cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "/bin/false", LC_ALL: "C" },
      stdio: ["ignore", "pipe", "pipe"],
      signal: opts.signal,
      timeout: opts.timeoutMs ?? 600_000,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      reject(code === "ENOENT"
        ? new FileOpError("TOOL", `git is needed for ADD of a git repository but was not found (install the Debian package "git")`, { cause: e })
        : new FileOpError("ABORTED", `git ${args[0]} was stopped: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new FileOpError("HTTP", `git ${args[0]} failed${signal ? ` (${signal})` : ""}: ${redact(err.trim().split("\n").slice(-3).join("; ")) || `exit status ${code}`}`));
    });
  });
}

const SHA = /^[0-9a-f]{7,64}$/;

/** The commit a ref names on the remote (git ls-remote), for cache keys; a commit hash is returned as is. */
export async function resolveGitCommit(ref: GitRef, opts: GitOptions = {}): Promise<string> {
  if (/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(ref.ref)) return ref.ref;
  const wanted = ref.ref === "" ? "HEAD" : ref.ref;
  const out = await git(["ls-remote", "--", ref.remote, wanted], opts);
  const lines = out.trim().split("\n").filter((l) => l !== "").map((l) => l.split("\t") as [string, string]);
  // Prefer an exact ref, then a branch, then a peeled tag (the commit a tag points at).
  const pick = lines.find(([, name]) => name === wanted)
    ?? lines.find(([, name]) => name === `refs/heads/${wanted}`)
    ?? lines.find(([, name]) => name === `refs/tags/${wanted}^{}`)
    ?? lines.find(([, name]) => name === `refs/tags/${wanted}`);
  if (!pick) throw new FileOpError("NOT_FOUND", `ADD failed: ${redact(ref.remote)} has no ref ${JSON.stringify(wanted)}`);
  return pick[0];
}

async function normalize(dir: string, keepGitDir: boolean, mtime: number): Promise<void> {
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const p = join(d, name);
      if (name === ".git" && !keepGitDir) {
        await rm(p, { recursive: true, force: true });
        continue;
      }
      const st = await lstat(p);
      if (st.isDirectory()) {
        await walk(p);
        await chmod(p, 0o755);
      } else if (st.isFile()) {
        await chmod(p, st.mode & 0o111 ? 0o755 : 0o644);
      }
      await lutimes(p, mtime, mtime);
    }
  };
  await walk(dir);
  await lutimes(dir, mtime, mtime);
}

/** Clones `ref` into `dir` (which must not exist) and checks out its commit. Returns the commit. */
export async function checkoutGit(ref: GitRef, dir: string, opts: GitOptions & { keepGitDir: boolean; checksum?: string }): Promise<string> {
  const name = ref.ref.replace(/^refs\/(heads|tags)\//, "");
  const byCommit = SHA.test(ref.ref);
  let shallow = !byCommit;
  if (shallow) {
    try {
      await git(["clone", "--quiet", "--no-checkout", "--depth", "1", ...(name ? ["--branch", name] : []), "--", ref.remote, dir], opts);
    } catch {
      // Dumb HTTP servers cannot do shallow clones; a commit hash is not a --branch.
      shallow = false;
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (!shallow) await git(["clone", "--quiet", "--no-checkout", "--", ref.remote, dir], opts);
  let commit = "";
  const candidates = shallow ? ["HEAD"] : ref.ref === "" ? ["HEAD"] : [ref.ref, `origin/${name}`, `refs/tags/${name}`];
  for (const c of candidates) {
    commit = (await git(["rev-parse", "--verify", "--quiet", `${c}^{commit}`], { ...opts, cwd: dir }).catch(() => "")).trim();
    if (commit) break;
  }
  if (!commit) throw new FileOpError("NOT_FOUND", `ADD failed: ${redact(ref.remote)} has no ref ${JSON.stringify(ref.ref)}`);
  await git(["checkout", "--quiet", "--force", "--detach", commit], { ...opts, cwd: dir });
  const checksum = opts.checksum ?? ref.checksum;
  if (checksum && !commit.startsWith(checksum)) {
    throw new FileOpError("CHECKSUM", `ADD failed: ${redact(ref.remote)}#${ref.ref || "HEAD"} is commit ${commit}, expected ${checksum}`);
  }
  if (ref.submodules !== false && existsSync(join(dir, ".gitmodules"))) {
    await git(["submodule", "update", "--quiet", "--init", "--recursive"], { ...opts, cwd: dir });
  }
  const mtime = ref.mtime === "commit" ? Number((await git(["log", "-1", "--format=%ct", commit], { ...opts, cwd: dir })).trim()) : Date.now() / 1000;
  await normalize(dir, opts.keepGitDir, mtime);
  return commit;
}
