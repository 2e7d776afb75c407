// ADD of git repositories, served from a local "dumb HTTP" server (a bare repository after
// `git update-server-info`, as BuildKit's own tests do). Needs git and root.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { join, normalize } from "node:path";
import { copy, parseGitRef, resolveGitCommit, type CopyRequest } from "../packages/builder/src/fileops/index.js";
import { LayeredView } from "../packages/builder/src/fs/index.js";
import { build, dump, indexContext, scratch } from "./fileops-support.js";

let root: string;
let cleanup: () => Promise<void>;
let server: Server;
let repoUrl: string;
let v1: string;
let head: string;
let n = 0;

function g(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd, env: { ...process.env, GIT_AUTHOR_DATE: "@1600000000 +0000", GIT_COMMITTER_DATE: "@1600000000 +0000" },
  }).toString().trim();
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch("git"));
  const work = join(root, "work");
  await build(work, { "README": "one\n", "bin/run.sh": "#!/bin/sh\n", "sub/inner.txt": "inner\n", "link -> README": null });
  await chmod(join(work, "bin/run.sh"), 0o700);
  g(work, "init", "-q");
  g(work, "add", "-A");
  g(work, "commit", "-q", "-m", "one");
  g(work, "tag", "v1");
  v1 = g(work, "rev-parse", "HEAD");
  g(work, "checkout", "-q", "-b", "feature");
  await build(work, { "feature.txt": "f\n" });
  g(work, "add", "-A");
  g(work, "commit", "-q", "-m", "feature");
  g(work, "checkout", "-q", "main");
  await build(work, { "README.2": "" });
  execFileSync("sh", ["-c", "echo two > README && rm README.2"], { cwd: work });
  g(work, "commit", "-q", "-am", "two");
  head = g(work, "rev-parse", "HEAD");
  const srv = join(root, "srv");
  await mkdir(srv);
  g(root, "clone", "-q", "--bare", work, join(srv, "repo.git"));
  g(join(srv, "repo.git"), "update-server-info");
  server = createServer(async (req, res) => {
    const p = normalize(join(srv, decodeURIComponent((req.url ?? "/").split("?")[0]!)));
    if (!p.startsWith(srv)) return void res.writeHead(403).end();
    try {
      res.writeHead(200).end(await readFile(p));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  repoUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/repo.git`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await cleanup();
});

async function run(req: Partial<CopyRequest> & { sources: string[]; dest: string }) {
  const layerDir = join(root, `out${++n}`);
  await mkdir(layerDir);
  const ctx = join(root, "ctx");
  await mkdir(ctx, { recursive: true });
  await copy({
    op: "add", heredocs: [], workdir: "/", from: { kind: "context", index: await indexContext(ctx) }, link: false, parents: false, excludes: [],
    target: { view: new LayeredView([]), layerDir }, ...req,
  });
  return { layerDir, tree: await dump(layerDir) };
}

describe("parseGitRef", () => {
  it("recognises git sources as BuildKit does", () => {
    expect(parseGitRef("https://github.com/moby/buildkit.git#v0.10.1:docs")).toEqual({ remote: "https://github.com/moby/buildkit.git", ref: "v0.10.1", subdir: "docs" });
    expect(parseGitRef("git@github.com:moby/buildkit.git#main")).toMatchObject({ remote: "git@github.com:moby/buildkit.git", ref: "main", subdir: "" });
    expect(parseGitRef("ssh://git@example.com/repo#:a/../b")).toMatchObject({ ref: "", subdir: "b" });
    expect(parseGitRef("git://example.com/x")).toMatchObject({ remote: "git://example.com/x" });
    expect(parseGitRef("https://example.com/r.git?tag=v1&subdir=docs&keep-git-dir=true")).toMatchObject({ ref: "refs/tags/v1", subdir: "docs", keepGitDir: true });
    expect(parseGitRef("https://example.com/file.tar.gz")).toBeUndefined();
    expect(parseGitRef("github.com/moby/buildkit")).toBeUndefined();
    expect(parseGitRef("./local")).toBeUndefined();
    expect(() => parseGitRef("https://example.com/r.git?mtime=never")).toThrow(/invalid mtime value/);
  });
});

describe("ADD <git>", () => {
  it("checks out the default branch without .git, modes 0644/0755", async () => {
    const { tree } = await run({ sources: [repoUrl], dest: "/src" });
    expect(Object.keys(tree)).toEqual(["src", "src/README", "src/bin", "src/bin/run.sh", "src/link", "src/sub", "src/sub/inner.txt"]);
    expect(tree["src/README"]).toEqual({ type: "file", mode: "0644", uid: 0, gid: 0, content: "two\n" });
    expect(tree["src/bin/run.sh"]).toMatchObject({ mode: "0755" });
    expect(tree["src/bin"]).toMatchObject({ type: "dir", mode: "0755" });
    expect(tree["src/link"]).toMatchObject({ type: "symlink", link: "README" });
  });

  it("takes a ref and a subdirectory from the fragment or the query", async () => {
    expect((await run({ sources: [`${repoUrl}#v1`], dest: "/a/" })).tree["a/README"]).toMatchObject({ content: "one\n" });
    expect(Object.keys((await run({ sources: [`${repoUrl}#main:sub`], dest: "/s/" })).tree)).toEqual(["s", "s/inner.txt"]);
    expect(Object.keys((await run({ sources: [`${repoUrl}?branch=feature`], dest: "/f/" })).tree)).toContain("f/feature.txt");
    expect((await run({ sources: [`${repoUrl}#${v1}`], dest: "/c/" })).tree["c/README"]).toMatchObject({ content: "one\n" });
    await expect(run({ sources: [`${repoUrl}#nosuchref`], dest: "/x/" })).rejects.toThrow();
  });

  it("keeps .git when asked, stamps commit times with mtime=commit", async () => {
    expect(Object.keys((await run({ sources: [repoUrl], dest: "/k/", keepGitDir: true })).tree)).toContain("k/.git");
    const { layerDir } = await run({ sources: [`${repoUrl}?mtime=commit`], dest: "/m/" });
    expect((await stat(join(layerDir, "m/README"))).mtimeMs).toBe(1_600_000_000_000);
  });

  it("verifies --checksum against the commit (prefix allowed)", async () => {
    expect(Object.keys((await run({ sources: [repoUrl], dest: "/ok/", checksum: head.slice(0, 10) })).tree)).toContain("ok/README");
    await expect(run({ sources: [`${repoUrl}#v1`], dest: "/bad/", checksum: head })).rejects.toThrow(/expected/);
    await expect(run({ op: "copy", sources: [repoUrl], dest: "/x/" })).rejects.toThrow("source can't be a git ref for COPY");
  });

  it("resolves refs to commits for cache keys", async () => {
    expect(await resolveGitCommit(parseGitRef(`${repoUrl}#v1`)!)).toBe(v1);
    expect(await resolveGitCommit(parseGitRef(repoUrl)!)).toBe(head);
  });
});
