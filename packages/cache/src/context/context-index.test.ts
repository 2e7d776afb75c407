import { chmodSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ContextError } from "../errors.js";
import { scratchDir } from "../test-support/tmp.js";
import { hashContext } from "./context-index.js";
import { memoFileOf } from "./digest-memo.js";

let tmp: ReturnType<typeof scratchDir>;
let ctx: string;
let cacheFile: string;
beforeEach(() => {
  tmp = scratchDir();
  ctx = path.join(tmp.dir, "ctx");
  cacheFile = path.join(tmp.dir, "stat-cache.json");
  mkdirSync(ctx);
});
afterEach(() => tmp.cleanup());

function tree(files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ctx, p)), { recursive: true });
    writeFileSync(path.join(ctx, p), content);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("walking with .dockerignore", () => {
  it("lists non-ignored entries sorted, with parents of re-included files", async () => {
    tree({
      Dockerfile: "FROM x\n",
      ".dockerignore": "# build output\nnode_modules\n*.log\ndocs\n!docs/README.md\n/secret.txt\n",
      "src/a.ts": "a",
      "src/b.log": "log",
      "node_modules/x/index.js": "x",
      "docs/README.md": "readme",
      "docs/internal/notes.md": "notes",
      "secret.txt": "s",
      "sub/secret.txt": "kept: patterns are anchored at the root",
    });
    const idx = await hashContext(ctx, { statCache: false });
    expect([...idx.entries().keys()]).toEqual([
      ".dockerignore",
      "Dockerfile",
      "docs",
      "docs/README.md",
      "src",
      "src/a.ts",
      "src/b.log", // "*.log" is anchored at the root: "*" never crosses "/"
      "sub",
      "sub/secret.txt",
    ]);
    expect(idx.ignoreFile).toBe(path.join(idx.root, ".dockerignore"));
    expect(idx.children("")).toEqual([".dockerignore", "Dockerfile", "docs", "src", "sub"]);
    expect(idx.children("docs")).toEqual(["docs/README.md"]);
    expect(idx.get("./src/a.ts")?.type).toBe("file");
    expect(idx.get("/src")?.type).toBe("dir");
    expect(idx.get(".")?.type).toBe("dir");
    expect(idx.get("node_modules")).toBeUndefined();
  });

  it("handles the usual allow-list and re-include idioms", async () => {
    tree({
      "src/a.go": "",
      "src/b.txt": "",
      "src/sub/c.go": "",
      "README.md": "",
      "node_modules/keep/index.js": "",
      "node_modules/drop/index.js": "",
      "logs/x/y.log": "",
    });
    const keys = async (excludes: string[]) => [...(await hashContext(ctx, { excludes, statCache: false })).entries().keys()];
    expect(await keys(["*", "!src"])).toEqual(["src", "src/a.go", "src/b.txt", "src/sub", "src/sub/c.go"]);
    expect(await keys(["*", "!src/*.go"])).toEqual(["src", "src/a.go"]);
    expect(await keys(["*", "!**/*.go"])).toEqual(["src", "src/a.go", "src/sub", "src/sub/c.go"]);
    expect(await keys(["node_modules", "!node_modules/keep", "logs", "src", "README.md"])).toEqual([
      "node_modules",
      "node_modules/keep",
      "node_modules/keep/index.js",
    ]);
    expect(await keys(["**/*.log", "**/*.go", "node_modules", "README*"])).toEqual(["logs", "logs/x", "src", "src/b.txt", "src/sub"]);
  });

  it("a Dockerfile-specific ignore file wins over .dockerignore", async () => {
    tree({
      ".dockerignore": "a.txt\n",
      "build/app.Dockerfile": "FROM x\n",
      "build/app.Dockerfile.dockerignore": "b.txt\n",
      "a.txt": "a",
      "b.txt": "b",
    });
    const idx = await hashContext(ctx, { dockerfile: "build/app.Dockerfile", statCache: false });
    expect(idx.get("a.txt")).toBeDefined();
    expect(idx.get("b.txt")).toBeUndefined();
    expect(idx.ignoreFile).toMatch(/app\.Dockerfile\.dockerignore$/);
    const plain = await hashContext(ctx, { statCache: false });
    expect(plain.get("a.txt")).toBeUndefined();
    const override = await hashContext(ctx, { excludes: ["*.txt", "!b.txt"], statCache: false });
    expect(override.get("a.txt")).toBeUndefined();
    expect(override.get("b.txt")).toBeDefined();
  });

  it("the Dockerfile and .dockerignore can be ignored too (the builder reads them directly)", async () => {
    tree({ Dockerfile: "FROM x", ".dockerignore": "Dockerfile\n.dockerignore\n", "app.js": "1" });
    const idx = await hashContext(ctx, { statCache: false });
    expect([...idx.entries().keys()]).toEqual(["app.js"]);
  });

  it("reports a bad pattern with the file it came from", async () => {
    tree({ ".dockerignore": "[\n" });
    await expect(hashContext(ctx, { statCache: false })).rejects.toThrow(/invalid pattern in \.dockerignore "\["/);
  });

  it("never follows symlinks, even to / or outside the context", async () => {
    tree({ "real/file": "x" });
    symlinkSync("/", path.join(ctx, "root-link"));
    symlinkSync("../../etc", path.join(ctx, "escape"));
    symlinkSync("real", path.join(ctx, "dir-link"));
    const idx = await hashContext(ctx, { statCache: false });
    expect(idx.get("root-link")).toMatchObject({ type: "symlink", linkTarget: "/" });
    expect(idx.get("escape")).toMatchObject({ type: "symlink", linkTarget: "../../etc" });
    expect(idx.children("dir-link")).toEqual([]);
    expect([...idx.entries().keys()].some((p) => p.startsWith("root-link/") || p.startsWith("escape/"))).toBe(false);
    await expect(idx.contentHash("escape")).rejects.toThrow(/not a regular file/);
    const d1 = await idx.digest(["escape"]);
    symlinkSync("../../usr", path.join(ctx, "escape2"));
    const idx2 = await hashContext(ctx, { statCache: false });
    expect(await idx2.digest(["escape"])).toBe(d1);
    expect(await idx2.digest(["escape2"])).not.toBe(d1);
  });

  it("a missing context or path is a clear error", async () => {
    await expect(hashContext(path.join(tmp.dir, "nope"), { statCache: false })).rejects.toThrow(/build context .* is not a readable directory/);
    const idx = await hashContext(ctx, { statCache: false });
    const err = await idx.digest(["missing.txt"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextError);
    expect((err as ContextError).message).toMatch(/"missing.txt" not found in the build context/);
  });
});

describe("digests", () => {
  it("are deterministic, independent of order, mtimes and touch", async () => {
    tree({ "a/x.txt": "x", "a/y.txt": "y", "b.txt": "b" });
    const i1 = await hashContext(ctx, { statCache: false });
    const all = await i1.digest(["."]);
    const ab = await i1.digest(["a", "b.txt"]);
    expect(await i1.digest(["b.txt", "a", "a/x.txt"])).toBe(ab);
    utimesSync(path.join(ctx, "a/x.txt"), new Date(0), new Date(0));
    const i2 = await hashContext(ctx, { statCache: false });
    expect(await i2.digest(["."])).toBe(all);
    expect(await i2.digest(["a", "b.txt"])).toBe(ab);
  });

  it("change with content, mode, names and added files — and only for the selected paths", async () => {
    tree({ "a/x.txt": "x", "b.txt": "b" });
    const base = await hashContext(ctx, { statCache: false });
    const da = await base.digest(["a"]);
    const db = await base.digest(["b.txt"]);
    writeFileSync(path.join(ctx, "b.txt"), "B");
    let idx = await hashContext(ctx, { statCache: false });
    expect(await idx.digest(["a"])).toBe(da);
    expect(await idx.digest(["b.txt"])).not.toBe(db);
    chmodSync(path.join(ctx, "a/x.txt"), 0o755);
    idx = await hashContext(ctx, { statCache: false });
    const dMode = await idx.digest(["a"]);
    expect(dMode).not.toBe(da);
    writeFileSync(path.join(ctx, "a/new.txt"), "");
    idx = await hashContext(ctx, { statCache: false });
    expect(await idx.digest(["a"])).not.toBe(dMode);
  });

  it("apply COPY --exclude patterns relative to the copied directory", async () => {
    tree({ "src/a.ts": "a", "src/a.test.ts": "t", "src/deep/b.test.ts": "t", "src/deep/c.ts": "c" });
    const idx = await hashContext(ctx, { statCache: false });
    const sel = idx.select(["src"], { excludes: ["**/*.test.ts"] }).map((e) => e.path);
    expect(sel).toEqual(["src", "src/a.ts", "src/deep", "src/deep/c.ts"]);
    const withTests = await idx.digest(["src"]);
    const without = await idx.digest(["src"], { excludes: ["**/*.test.ts"] });
    expect(without).not.toBe(withTests);
    writeFileSync(path.join(ctx, "src/a.test.ts"), "changed");
    const idx2 = await hashContext(ctx, { statCache: false });
    expect(await idx2.digest(["src"], { excludes: ["**/*.test.ts"] })).toBe(without);
    // An excluded directory appears only if an exception re-includes something in it.
    const sel2 = idx.select(["src"], { excludes: ["deep", "!deep/c.ts"] }).map((e) => e.path);
    expect(sel2).toEqual(["src", "src/a.test.ts", "src/a.ts", "src/deep", "src/deep/c.ts"]);
  });
});

describe("the persistent stat cache", () => {
  it("re-hashes an unchanged context without reading files, and only a changed file after an edit", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`d${i % 5}/f${i}.txt`] = `content ${i}`;
    tree(files);
    await sleep(120); // let the files' ctimes age past the racy-clean window
    const cold = await hashContext(ctx, { statCache: cacheFile });
    const d = await cold.digest(["."]);
    expect(cold.stats).toMatchObject({ filesHashed: 50, cacheHits: 0 });
    await cold.save();
    expect(existsSync(cacheFile)).toBe(true);

    const warm = await hashContext(ctx, { statCache: cacheFile });
    expect(await warm.digest(["."])).toBe(d);
    // The same request in the same state: the digest memo's.
    expect(warm.stats).toMatchObject({ filesHashed: 0, cacheHits: 0, memoHits: 1 });
    // Another request over the same files: every hash from the stat cache.
    await warm.digest(["d0", "d1", "d2", "d3", "d4"]);
    expect(warm.stats).toMatchObject({ filesHashed: 0, cacheHits: 50 });

    // touch: mtime changes → re-read, same digest.
    utimesSync(path.join(ctx, "d1/f1.txt"), new Date(), new Date(Date.now() - 5000));
    writeFileSync(path.join(ctx, "d2/f2.txt"), "edited");
    await sleep(120);
    const after = await hashContext(ctx, { statCache: cacheFile });
    const d2 = await after.digest(["."]);
    expect(after.stats).toMatchObject({ filesHashed: 2, cacheHits: 48 });
    expect(d2).not.toBe(d);
    await after.save();
    const touchedOnly = await hashContext(ctx, { statCache: cacheFile });
    expect(await touchedOnly.digest(["d1"])).toBe(await cold.digest(["d1"]));
    expect(touchedOnly.stats.filesHashed).toBe(0);
  });

  it("does not trust a hash taken right after a write (racily clean files are read again)", async () => {
    tree({ "f.txt": "one" });
    const a = await hashContext(ctx, { statCache: cacheFile });
    await a.digest(["."]);
    await a.save();
    // Same size, within the same timestamp tick: the fingerprint alone could not tell.
    writeFileSync(path.join(ctx, "f.txt"), "two");
    const b = await hashContext(ctx, { statCache: cacheFile });
    await b.contentHash("f.txt");
    expect(b.stats.filesHashed).toBe(1);
    expect(await b.contentHash("f.txt")).toBe(`sha256:${(await import("node:crypto")).createHash("sha256").update("two").digest("hex")}`);
  });

  it("hashes what is on disk when a file changes between the walk and the read", async () => {
    tree({ "f.txt": "short" });
    const idx = await hashContext(ctx, { statCache: false });
    writeFileSync(path.join(ctx, "f.txt"), "much longer content");
    expect(await idx.contentHash("f.txt")).toBe(`sha256:${(await import("node:crypto")).createHash("sha256").update("much longer content").digest("hex")}`);
    expect(idx.get("f.txt")?.size).toBe("much longer content".length);
  });

  it("reports a stat cache path whose parent is not a directory (a configuration error)", async () => {
    tree({ "f.txt": "x" });
    await sleep(120);
    writeFileSync(path.join(tmp.dir, "not-a-dir"), "");
    const idx = await hashContext(ctx, { statCache: path.join(tmp.dir, "not-a-dir", "cache.json") });
    await idx.digest(["."]);
    // Only "cannot write here" conditions (read-only, full, no permission) are ignored.
    await expect(idx.save()).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it("survives a corrupt cache file", async () => {
    tree({ "f.txt": "x" });
    writeFileSync(cacheFile, "{not json");
    await sleep(120);
    const idx = await hashContext(ctx, { statCache: cacheFile });
    await idx.digest(["."]);
    await idx.save();
    expect(JSON.parse(readFileSync(cacheFile, "utf8")).v).toBeTypeOf("number");
  });
});

describe("selecting one path", () => {
  it("takes the run of the sorted paths under it, as the tree walk with excludes does", async () => {
    // Names that sort between "a" and "a/…": "a-b", "a.c" and "a0" are not under a.
    tree({ "a/b/c.txt": "1", "a/b.txt": "2", "a-b/x": "3", "a.c/y": "4", "a0": "5", "b/a/z": "6", "a/é/ü": "7" });
    const idx = await hashContext(ctx, { statCache: false });
    for (const p of [".", "a", "a/b", "a/b.txt", "a-b", "b"]) {
      const fast = idx.select([p]).map((e) => e.path);
      // An exclude that matches nothing takes the general path.
      expect(fast).toEqual(idx.select([p], { excludes: ["no-such-name"] }).map((e) => e.path));
    }
    expect(idx.select(["a"]).map((e) => e.path)).toEqual(["a", "a/b", "a/b.txt", "a/b/c.txt", "a/é", "a/é/ü"]);
  });
});

describe("the digest memo", () => {
  const memoFile = () => memoFileOf(cacheFile);

  it("serves the digests of an unchanged context without the stat cache, and nothing once anything covered changed", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`d${i % 4}/f${i}.txt`] = `content ${String(i).padStart(2, "0")}`;
    tree(files);
    await sleep(120); // past the racy-clean window: the hashes read now can vouch for the files
    const first = await hashContext(ctx, { statCache: cacheFile });
    const all = await first.digest(["."]);
    const d1 = await first.digest(["d1"]);
    const d1Excluding = await first.digest(["d1"], { excludes: ["f5.txt"] });
    expect(first.stats).toMatchObject({ filesHashed: 20, memoHits: 0 });
    await first.save();
    expect(existsSync(memoFile())).toBe(true);

    const again = await hashContext(ctx, { statCache: cacheFile });
    expect(await again.digest(["."])).toBe(all);
    expect(await again.digest(["d1"])).toBe(d1);
    // Served whole: no content hash was looked up, not even in the stat cache.
    expect(again.stats).toMatchObject({ filesHashed: 0, cacheHits: 0, memoHits: 2 });
    // A COPY --exclude selection is computed each time.
    expect(await again.digest(["d1"], { excludes: ["f5.txt"] })).toBe(d1Excluding);
    expect(again.stats.memoHits).toBe(2);

    // The same size, a later write: another state, and other content: computed again.
    writeFileSync(path.join(ctx, "d2/f2.txt"), "content XX");
    await sleep(120);
    const edited = await hashContext(ctx, { statCache: cacheFile });
    const allEdited = await edited.digest(["."]);
    expect(edited.stats).toMatchObject({ filesHashed: 1, memoHits: 0 });
    expect(allEdited).not.toBe(all);
    // d1 is covered by none of it: still served.
    expect(await edited.digest(["d1"])).toBe(d1);
    expect(edited.stats.memoHits).toBe(1);
    await edited.save();

    // A mode, a new file, a removed one: each changes what the digest of "." covers.
    for (const change of [
      () => chmodSync(path.join(ctx, "d3/f3.txt"), 0o600),
      () => writeFileSync(path.join(ctx, "d0/new.txt"), "new"),
      () => rmSync(path.join(ctx, "d0/new.txt")),
      () => mkdirSync(path.join(ctx, "d0/empty")),
    ]) {
      change();
      await sleep(120);
      const idx = await hashContext(ctx, { statCache: cacheFile });
      const fresh = await hashContext(ctx, { statCache: false });
      expect(await idx.digest(["."])).toBe(await fresh.digest(["."]));
      expect(idx.stats.memoHits).toBe(0);
      await idx.save();
    }
  });

  it("serves a digest after a touch (another state, the same content) and reads only the touched file", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`d${i % 3}/f${i}.txt`] = `content ${i}`;
    tree(files);
    await sleep(120);
    const first = await hashContext(ctx, { statCache: cacheFile });
    const all = await first.digest(["."]);
    const one = await first.digest(["d1/f1.txt"]);
    await first.save();
    utimesSync(path.join(ctx, "d1/f1.txt"), new Date(), new Date());
    await sleep(120);
    const touched = await hashContext(ctx, { statCache: cacheFile });
    expect(await touched.digest(["."])).toBe(all);
    expect(await touched.digest(["d1/f1.txt"])).toBe(one);
    expect(touched.stats).toMatchObject({ memoHits: 2, filesHashed: 1 });
    await touched.save();
    // The new state was remembered: the next build reads nothing.
    const next = await hashContext(ctx, { statCache: cacheFile });
    expect(await next.digest(["."])).toBe(all);
    expect(next.stats).toMatchObject({ memoHits: 1, filesHashed: 0, cacheHits: 0 });
  });

  it("does not remember a digest over a racily clean file (written within a timestamp tick of its read)", async () => {
    tree({ "old/a.txt": "a" });
    await sleep(120);
    writeFileSync(path.join(ctx, "b.txt"), "b");
    const first = await hashContext(ctx, { statCache: cacheFile });
    const all = await first.digest(["."]);
    const old = await first.digest(["old"]);
    await first.save();
    // The same write again, within the same tick, would leave b.txt's fingerprint as it is:
    // the digest over it must be computed again; the one over old/ alone may be served.
    const again = await hashContext(ctx, { statCache: cacheFile });
    expect(await again.digest(["old"])).toBe(old);
    expect(again.stats.memoHits).toBe(1);
    expect(await again.digest(["."])).toBe(all);
    expect(again.stats).toMatchObject({ memoHits: 1, filesHashed: 1 });
  });
});
