// COPY from the build context into a layer directory, checked entry by entry. Needs root
// (chown, mknod of whiteouts) and the attr tools. Where BuildKit behaves in a way worth
// pinning down, the case says so; those were checked against docker 20.10's BuildKit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmod, chown, link, mkdir, readdir, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { copy, type CopyRequest, FileOpError } from "../packages/builder/src/fileops/index.js";
import { LayeredView } from "../packages/builder/src/fs/index.js";
import { build, dump, indexContext, scratch, whiteout } from "./fileops-support.js";
import { hashContext } from "@tbuild/cache";

let root: string;
let cleanup: () => Promise<void>;
let ctx: string;
let base: string;
let upper: string;
let n = 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch("copy"));
  ctx = join(root, "ctx");
  base = join(root, "base");
  upper = join(root, "upper");
  await build(ctx, {
    "a": "A",
    "b.txt": "B",
    "c.txt": "C",
    "star*name": "S",
    "d/": null,
    "d/e/f": "F",
    "d/top.txt": "T",
    "d/lnk -> e/f": null,
    "d/root -> /": null,
    "d/keep.txt": "K",
    "linka -> a": null,
    "abs -> /etc/passwd": null,
    "dirlink -> d": null,
    "x/y/a.txt": "XA",
    "x/y/b.txt": "XB",
    "x/y/c.md": "XC",
    "x/z/": null,
    "apps/app": "file named app",
    "apps2/app/sub/new": "N",
  });
  await chmod(join(ctx, "apps2/app"), 0o711);
  await chmod(join(ctx, "d/e"), 0o700);
  await chmod(join(ctx, "a"), 0o640);
  await chown(join(ctx, "a"), 1234, 5678);
  await link(join(ctx, "d/e/f"), join(ctx, "d/hard"));
  await utimes(join(ctx, "d"), 1_000_000, 1_000_000);
  await utimes(join(ctx, "d/e/f"), 2_000_000, 2_000_000);

  await build(base, {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
    "etc/group": "root:x:0:\napp:x:1001:\nstaff:x:50:app\n",
    "app/sub/old": "old",
    "gone/old": "hidden",
    "somefile": "I am a file",
    "rootlink -> /": null,
    "app/up -> ../..": null,
    "dangling -> /nonexist/x": null,
    "tofile -> /somefile": null,
  });
  await chmod(join(base, "app/sub"), 0o750);
  await chown(join(base, "app/sub"), 7, 8);
  await utimes(join(base, "app/sub"), 3_000_000, 3_000_000);
  await utimes(join(base, "app"), 4_000_000, 4_000_000);
  await mkdir(upper);
  whiteout(upper, "gone");
});

afterAll(() => cleanup());

async function run(req: Partial<CopyRequest> & { sources: string[]; dest: string }) {
  const layerDir = join(root, `out${++n}`);
  await mkdir(layerDir);
  const index = await indexContext(ctx);
  const result = await copy({
    op: "copy", heredocs: [], workdir: "/", from: { kind: "context", index }, link: false, parents: false, excludes: [],
    target: { view: new LayeredView([upper, base]), layerDir },
    ...req,
  });
  return { layerDir, result, tree: await dump(layerDir) };
}

const dir = (uid = 0, gid = 0, mode = "0755") => ({ type: "dir", mode, uid, gid });
const file = (content: string, mode = "0644", uid = 0, gid = 0) => ({ type: "file", mode, uid, gid, content });

describe("COPY destinations", () => {
  it("puts a file into a directory destination, owner 0:0, mode kept", async () => {
    const { tree, result } = await run({ sources: ["a"], dest: "/dst/" });
    expect(tree).toEqual({ "dst": dir(), "dst/a": file("A", "0640") });
    expect(result).toEqual({ files: 1, bytes: 1 });
  });

  it("names the file after the destination without a trailing slash", async () => {
    const { tree } = await run({ sources: ["a"], dest: "/new/name" });
    expect(tree).toEqual({ "new": dir(), "new/name": file("A", "0640") });
  });

  it("copies into an existing directory of the image, copying it up with its metadata", async () => {
    const { tree, layerDir } = await run({ sources: ["a"], dest: "/app/sub" });
    expect(tree).toEqual({ "app": dir(), "app/sub": dir(7, 8, "0750"), "app/sub/a": file("A", "0640") });
    expect((await stat(join(layerDir, "app/sub"))).mtimeMs).toBe(3_000_000_000);
    expect((await stat(join(layerDir, "app"))).mtimeMs).toBe(4_000_000_000);
  });

  it("creates missing parents below an existing directory", async () => {
    const { tree } = await run({ sources: ["a"], dest: "/app/sub/deep/er/" });
    expect(Object.keys(tree)).toEqual(["app", "app/sub", "app/sub/deep", "app/sub/deep/er", "app/sub/deep/er/a"]);
    expect(tree["app/sub/deep"]).toEqual(dir());
  });

  it("takes a relative destination from WORKDIR; '.' is the WORKDIR itself", async () => {
    expect(Object.keys((await run({ sources: ["a"], dest: "rel/", workdir: "/w" })).tree)).toEqual(["w", "w/rel", "w/rel/a"]);
    expect(Object.keys((await run({ sources: ["a"], dest: ".", workdir: "/w" })).tree)).toEqual(["w", "w/a"]);
  });

  it("resolves symlinks of the destination inside the rootfs", async () => {
    expect(Object.keys((await run({ sources: ["a"], dest: "/rootlink/viaroot" })).tree)).toEqual(["viaroot"]);
    expect(Object.keys((await run({ sources: ["a"], dest: "/app/up/viaup" })).tree)).toEqual(["viaup"]);
    expect(Object.keys((await run({ sources: ["a"], dest: "../../../esc", workdir: "/app" })).tree)).toEqual(["esc"]);
    // BuildKit follows a destination symlink to a file, and creates what a dangling one names
    expect((await run({ sources: ["a"], dest: "/tofile" })).tree).toEqual({ "somefile": file("A", "0640") });
    expect(Object.keys((await run({ sources: ["a"], dest: "/dangling" })).tree)).toEqual(["nonexist", "nonexist/x"]);
  });

  it("creates a directory over a whiteout as a new directory", async () => {
    const { tree } = await run({ sources: ["a"], dest: "/gone/" });
    expect(tree).toEqual({ "gone": dir(), "gone/a": file("A", "0640") });
  });

  it("refuses several sources without a directory destination", async () => {
    await expect(run({ sources: ["a", "b.txt"], dest: "/one" })).rejects.toThrow(
      "When using COPY with more than one source file, the destination must be a directory and end with a /",
    );
    // …unless it exists as a directory
    expect(Object.keys((await run({ sources: ["a", "b.txt"], dest: "/app" })).tree)).toEqual(["app", "app/a", "app/b.txt"]);
  });

  it("refuses to put a directory onto a file and a file onto a directory", async () => {
    await expect(run({ sources: ["d"], dest: "/somefile" })).rejects.toThrow("cannot copy to non-directory: /somefile");
    await expect(run({ sources: ["apps"], dest: "/" })).rejects.toThrow("cannot replace to directory /app with file");
    await expect(run({ sources: ["a"], dest: "/somefile/x" })).rejects.toThrow("mkdir /somefile: not a directory");
  });
});

describe("COPY sources", () => {
  it("copies a directory's contents, keeping modes, mtimes, links and hard links", async () => {
    const { tree, layerDir } = await run({ sources: ["d"], dest: "/newdir" });
    expect(tree).toEqual({
      "newdir": dir(),
      "newdir/e": dir(0, 0, "0700"),
      "newdir/e/f": file("F"),
      "newdir/hard": file("F"),
      "newdir/keep.txt": file("K"),
      "newdir/lnk": { type: "symlink", uid: 0, gid: 0, link: "e/f" },
      "newdir/root": { type: "symlink", uid: 0, gid: 0, link: "/" },
      "newdir/top.txt": file("T"),
    });
    const f = await stat(join(layerDir, "newdir/e/f"));
    expect((await stat(join(layerDir, "newdir/hard"))).ino).toBe(f.ino);
    expect(f.mtimeMs).toBe(2_000_000_000);
    // fsutil gives the top directory the source directory's mtime.
    expect((await stat(join(layerDir, "newdir"))).mtimeMs).toBe(1_000_000_000);
  });

  it("cleans source paths into the context", async () => {
    expect(Object.keys((await run({ sources: ["../../a"], dest: "/p/" })).tree)).toEqual(["p", "p/a"]);
    expect(Object.keys((await run({ sources: ["/a"], dest: "/q/" })).tree)).toEqual(["q", "q/a"]);
  });

  it("follows a symlink named as the source inside the context, keeping its name", async () => {
    expect((await run({ sources: ["linka"], dest: "/l/" })).tree["l/linka"]).toEqual(file("A", "0640"));
    expect(Object.keys((await run({ sources: ["dirlink"], dest: "/dl" })).tree)).toContain("dl/e/f");
    // /etc/passwd resolves inside the context, where there is none: nothing outside is read.
    await expect(run({ sources: ["abs"], dest: "/l/" })).rejects.toThrow(
      "COPY failed: file not found in build context or excluded by .dockerignore: stat abs: file does not exist",
    );
  });

  it("expands wildcards per path component", async () => {
    expect(Object.keys((await run({ sources: ["*.txt"], dest: "/w/" })).tree)).toEqual(["w", "w/b.txt", "w/c.txt"]);
    expect(Object.keys((await run({ sources: ["[b]*"], dest: "/w/" })).tree)).toEqual(["w", "w/b.txt"]);
    expect(Object.keys((await run({ sources: ["x/*/a.txt"], dest: "/w/" })).tree)).toEqual(["w", "w/a.txt"]);
    // "[*]" is a literal star inside a pattern; a backslash outside a pattern is part of the name
    expect(Object.keys((await run({ sources: ["star[*]name"], dest: "/w/" })).tree)).toEqual(["w", "w/star*name"]);
    await expect(run({ sources: ["star\\*name"], dest: "/w/" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // a single match may name a file
    expect(Object.keys((await run({ sources: ["b*"], dest: "/single" })).tree)).toEqual(["single"]);
  });

  it("errors when nothing at all matches, or a plain source is missing", async () => {
    await expect(run({ sources: ["nomatch*"], dest: "/w/" })).rejects.toThrow("COPY failed: no source files were specified");
    expect(Object.keys((await run({ sources: ["nomatch*", "a"], dest: "/w/" })).tree)).toEqual(["w", "w/a"]);
    await expect(run({ sources: ["missing"], dest: "/w/" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("honours --exclude below each source, and on wildcard matches", async () => {
    expect(Object.keys((await run({ sources: ["d"], dest: "/e/", excludes: ["*.txt"] })).tree)).toEqual([
      "e", "e/e", "e/e/f", "e/hard", "e/lnk", "e/root",
    ]);
    expect(Object.keys((await run({ sources: ["x"], dest: "/e/", excludes: ["**/*.txt"] })).tree)).toEqual(["e", "e/y", "e/y/c.md", "e/z"]);
    expect(Object.keys((await run({ sources: ["d"], dest: "/e/", excludes: ["*.txt", "!keep.txt", "e", "lnk", "root", "hard"] })).tree)).toEqual([
      "e", "e/keep.txt",
    ]);
    expect(Object.keys((await run({ sources: ["*.txt"], dest: "/e/", excludes: ["c.*"] })).tree)).toEqual(["e", "e/b.txt"]);
  });

  it("keeps parent directories with --parents, from the ./ pivot", async () => {
    expect(Object.keys((await run({ sources: ["x/./y/*.txt"], dest: "/p/", parents: true })).tree)).toEqual(["p", "p/y", "p/y/a.txt", "p/y/b.txt"]);
    expect(Object.keys((await run({ sources: ["./x/y/a.txt", "d/e/f"], dest: "/p/", parents: true })).tree)).toEqual([
      "p", "p/d", "p/d/e", "p/d/e/f", "p/x", "p/x/y", "p/x/y/a.txt",
    ]);
    expect((await run({ sources: ["d/e/f"], dest: "/p/", parents: true })).tree["p/d/e"]).toEqual(dir(0, 0, "0700"));
    expect(Object.keys((await run({ sources: ["x/**/*.md"], dest: "/p/", parents: true })).tree)).toEqual(["p", "p/x", "p/x/y", "p/x/y/c.md"]);
    await expect(run({ sources: ["x/nope.txt"], dest: "/p/", parents: true })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses names that would become whiteouts in the image", async () => {
    await expect(run({ sources: [], heredocs: [{ name: "x", content: "" }], dest: "/.wh.passwd" })).rejects.toThrow(/reserved for layer whiteouts/);
  });

  // BuildKit's dockerfile2llb writes inline documents with llb.Mkfile(path, 0644, …) since
  // dockerfile/1.6.0 (moby/buildkit 1430424, "heredoc should use 0644 permissions"; 0664 before).
  it("writes heredocs as 0644 files", async () => {
    const { tree } = await run({ sources: [], heredocs: [{ name: "EOF", content: "hello\n" }], dest: "/etc/motd" });
    expect(tree["etc/motd"]).toEqual(file("hello\n"));
    const two = await run({ sources: [], heredocs: [{ name: "one", content: "1" }, { name: "two", content: "2" }], dest: "/h/", chmod: "755" });
    expect(two.tree).toEqual({ "h": dir(), "h/one": file("1", "0755"), "h/two": file("2", "0755") });
  });
});

describe("COPY and .dockerignore", () => {
  it("never sees ignored files, not even through a symlink", async () => {
    const ign = join(root, "ignctx");
    await build(ign, { ".dockerignore": "secret\n**/*.key\n", "secret": "s", "pub/a.key": "k", "pub/ok": "ok", "tosecret -> secret": null });
    const layerDir = join(root, `out${++n}`);
    await mkdir(layerDir);
    const req = (sources: string[]): CopyRequest => ({
      op: "copy", sources, heredocs: [], dest: "/i/", workdir: "/", link: false, parents: false, excludes: [],
      from: { kind: "context", index: idx }, target: { view: new LayeredView([base]), layerDir },
    });
    const idx = await hashContext(ign, { statCache: false });
    await expect(copy(req(["secret"]))).rejects.toThrow("file not found in build context or excluded by .dockerignore: stat secret");
    await expect(copy(req(["tosecret"]))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await copy(req(["pub"]));
    expect(Object.keys(await dump(layerDir))).toEqual(["i", "i/ok"]);
  });
});

describe("COPY --chown / --chmod", () => {
  it("resolves names in the target image; a number alone is uid = gid", async () => {
    expect((await run({ sources: ["a"], dest: "/o/", chown: "app" })).tree).toEqual({ "o": dir(1000, 1001), "o/a": file("A", "0640", 1000, 1001) });
    expect((await run({ sources: ["a"], dest: "/o/", chown: "1000" })).tree["o/a"]).toMatchObject({ uid: 1000, gid: 1000 });
    expect((await run({ sources: ["a"], dest: "/o/", chown: "app:staff" })).tree["o/a"]).toMatchObject({ uid: 1000, gid: 50 });
    expect((await run({ sources: ["a"], dest: "/o/", chown: "33:root" })).tree["o/a"]).toMatchObject({ uid: 33, gid: 0 });
    const d = await run({ sources: ["d"], dest: "/o", chown: "2:3" });
    expect(Object.values(d.tree).every((e) => e.uid === 2 && e.gid === 3)).toBe(true);
    await expect(run({ sources: ["a"], dest: "/o/", chown: "nosuch" })).rejects.toThrow("unable to find user nosuch");
    await expect(run({ sources: ["a"], dest: "/o/", chown: "app:nosuch" })).rejects.toThrow("unable to find group nosuch");
  });

  // fsutil's Copy creates missing parents with the octal --chmod mode (tonistiigi/fsutil
  // 183e7fb, "copy: fix custom chmod for parent directories", in BuildKit since v0.21; 0755 before).
  it("applies an octal mode to files and directories, created parents included", async () => {
    const { tree } = await run({ sources: ["d"], dest: "/c1/deep/", chmod: "640", excludes: ["lnk", "root"] });
    expect(tree["c1"]).toEqual(dir(0, 0, "0640"));
    expect(tree["c1/deep/e"]).toEqual(dir(0, 0, "0640"));
    expect(tree["c1/deep/e/f"]).toEqual(file("F", "0640"));
  });

  it("applies a symbolic mode relative to each entry", async () => {
    const { tree } = await run({ sources: ["d"], dest: "/s", chmod: "u=rwX,go=rX" });
    expect(tree["s"]).toEqual(dir());
    expect(tree["s/e"]).toEqual(dir(0, 0, "0755"));
    expect(tree["s/e/f"]).toEqual(file("F", "0644"));
    expect(tree["s/lnk"]).toMatchObject({ type: "symlink" });
  });
});

describe("COPY --link and SOURCE_DATE_EPOCH", () => {
  it("--link writes without the image: parents with default metadata, destination links not followed", async () => {
    const { tree } = await run({ sources: ["a"], dest: "/app/sub/", link: true });
    expect(tree).toEqual({ "app": dir(), "app/sub": dir(), "app/sub/a": file("A", "0640") });
    expect(Object.keys((await run({ sources: ["a"], dest: "/rootlink/x", link: true })).tree)).toEqual(["rootlink", "rootlink/x"]);
    await expect(run({ sources: ["a"], dest: "/o/", chown: "app", link: true })).rejects.toThrow(/--link/);
  });

  it("clamps written mtimes to SOURCE_DATE_EPOCH", async () => {
    const { layerDir } = await run({ sources: ["d"], dest: "/sde/x/", heredocs: [], sourceDateEpoch: 1_500_000 });
    expect((await stat(join(layerDir, "sde"))).mtimeMs).toBe(1_500_000_000);
    expect((await stat(join(layerDir, "sde/x"))).mtimeMs).toBe(1_000_000_000);
    expect((await stat(join(layerDir, "sde/x/top.txt"))).mtimeMs).toBe(1_500_000_000);
    const h = await run({ sources: [], heredocs: [{ name: "h", content: "" }], dest: "/h", sourceDateEpoch: 42 });
    expect((await stat(join(h.layerDir, "h"))).mtimeMs).toBe(42_000);
  });
});

describe("COPY over existing content", () => {
  it("gives nested directories that exist the source's metadata, but not the top one", async () => {
    const { tree } = await run({ sources: ["apps2"], dest: "/" });
    expect(tree["app"]).toEqual(dir(0, 0, "0711"));
    expect(tree["app/sub"]).toEqual(dir(0, 0, "0755"));
    expect(tree["app/sub/new"]).toEqual(file("N"));
    expect(await readdir(join(base, "app/sub"))).toEqual(["old"]);
  });

  it("stops when cancelled", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(run({ sources: ["d"], dest: "/x/", signal: ac.signal })).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("reports FileOpError for user mistakes", async () => {
    const err = await run({ sources: ["missing"], dest: "/" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileOpError);
  });
});
