// ADD: local archives (detected by content, any of tar/gzip/bzip2/xz/zstd), archive
// confinement, and http(s) sources from a local server. Needs root and the tar, gzip,
// bzip2, xz and zstd programs. Expected behaviour was checked against docker 20.10's
// BuildKit where it is BuildKit-specific (paths confined, not refused; URL naming).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createHash } from "node:crypto";
import { chown, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pack } from "tar-stream";
import { copy, type CopyRequest } from "../packages/builder/src/fileops/index.js";
import { LayeredView } from "../packages/builder/src/fs/index.js";
import { build, dump, indexContext, scratch } from "./fileops-support.js";

let root: string;
let cleanup: () => Promise<void>;
let ctx: string;
let base: string;
let n = 0;
let server: Server;
let url: string;
const TGZ_NAME = "t.tgz";

async function tarOf(entries: { name: string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string; body?: string; mode?: number; uid?: number; gid?: number; mtime?: Date }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => p.on("end", resolve));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(0) }, e.body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch("add"));
  ctx = join(root, "ctx");
  base = join(root, "base");
  const src = join(root, "src");
  await build(src, { "x/t": "tee", "x/sub/u": "you" });
  await chown(join(src, "x"), 1234, 5678);
  await chown(join(src, "x/t"), 1234, 5678);
  await build(ctx, { "plain.txt": "just text\n", "fake.tar.gz": "not an archive\n" });
  const tarArgs = ["--mtime=@1000000", "-C", src, "-cf", "-", "x"];
  const tar = execFileSync("tar", tarArgs);
  await writeFile(join(ctx, "a.tar"), tar);
  await writeFile(join(ctx, "a.gz.bin"), execFileSync("gzip", ["-c"], { input: tar }));
  await writeFile(join(ctx, "a.bz2.bin"), execFileSync("bzip2", ["-c"], { input: tar }));
  await writeFile(join(ctx, "a.xz.bin"), execFileSync("xz", ["-c"], { input: tar }));
  await writeFile(join(ctx, "a.zst.bin"), execFileSync("zstd", ["-c", "-q"], { input: tar }));
  await writeFile(join(ctx, "evil.tar"), await tarOf([
    { name: "../escape", body: "esc" },
    { name: "/abs/file", body: "abs" },
    { name: "lnk", type: "symlink", linkname: "/" },
    { name: "lnk/etc/canary", body: "canary" },
    { name: "up", type: "symlink", linkname: "../../.." },
    { name: "up/canary2", body: "c2" },
  ]));
  await writeFile(join(ctx, "hardout.tar"), await tarOf([{ name: "hl", type: "link", linkname: "../../etc/passwd" }]));
  await writeFile(join(ctx, "hardin.tar"), await tarOf([
    { name: "one", body: "1", mode: 0o600, mtime: new Date(5_000_000) },
    { name: "two", type: "link", linkname: "one" },
  ]));
  await writeFile(join(ctx, "wh.tar"), await tarOf([{ name: "d/.wh.victim", body: "" }]));
  await writeFile(join(ctx, "replace.tar"), await tarOf([
    { name: "sub", body: "now a file" },
    { name: "keep/", type: "directory", mode: 0o700, uid: 3, gid: 4 },
    { name: "keep/new", body: "n" },
    { name: "lnk/", type: "directory", mode: 0o750 },
    { name: "lnk/inside", body: "i" },
    { name: "plain", type: "symlink", linkname: "keep" },
  ]));
  await build(base, { "etc/passwd": "root:x:0:0::/root:/bin/sh\n", "etc/canary": "original", "dst/sub/old": "o", "dst/keep/old": "k", "dst/lnk -> /": null, "dst/plain": "p" });

  const tgz = await readFile(join(ctx, "a.gz.bin"));
  server = createServer((req, res) => {
    const u = req.url ?? "/";
    if (u.startsWith("/missing")) return void res.writeHead(404).end("nope");
    if (u.startsWith("/hang")) return; // never answers
    if (u.startsWith("/nolm")) return void res.writeHead(200).end("no date\n");
    if (u.startsWith("/tgz/")) return void res.writeHead(200).end(tgz);
    res.writeHead(200, { "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT", "Content-Disposition": 'attachment; filename="ignored.txt"' });
    res.end("hello url\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await cleanup();
});

async function run(req: Partial<CopyRequest> & { sources: string[]; dest: string }) {
  const layerDir = join(root, `out${++n}`);
  await mkdir(layerDir);
  const result = await copy({
    op: "add", heredocs: [], workdir: "/", from: { kind: "context", index: await indexContext(ctx) }, link: false, parents: false, excludes: [],
    target: { view: new LayeredView([base]), layerDir }, ...req,
  });
  return { layerDir, result, tree: await dump(layerDir, { mtime: true }) };
}

describe("ADD of local archives", () => {
  it("extracts a plain tar like tar -x, keeping owners, modes and times", async () => {
    const { tree } = await run({ sources: ["a.tar"], dest: "/t1" });
    expect(tree["t1"]).toMatchObject({ type: "dir", mode: "0755", uid: 0, gid: 0 });
    expect(tree["t1/x"]).toMatchObject({ type: "dir", uid: 1234, gid: 5678, mtime: 1_000_000 });
    expect(tree["t1/x/t"]).toEqual({ type: "file", mode: "0644", uid: 1234, gid: 5678, content: "tee", mtime: 1_000_000 });
    expect(tree["t1/x/sub/u"]).toMatchObject({ content: "you" });
  });

  for (const name of ["a.gz.bin", "a.bz2.bin", "a.xz.bin", "a.zst.bin"]) {
    it(`detects the compression of ${name} by content`, async () => {
      const { tree } = await run({ sources: [name], dest: "/c/" });
      expect(tree["c/x/t"]).toMatchObject({ content: "tee" });
    });
  }

  it("copies files that are not archives, whatever their name", async () => {
    const { tree } = await run({ sources: ["fake.tar.gz", "plain.txt"], dest: "/f/" });
    expect(Object.keys(tree)).toEqual(["f", "f/fake.tar.gz", "f/plain.txt"]);
  });

  it("does not extract with --unpack=false", async () => {
    const { tree } = await run({ sources: ["a.tar"], dest: "/f/", unpack: false });
    expect(Object.keys(tree)).toEqual(["f", "f/a.tar"]);
  });

  it("gives every extracted entry the --chown owner", async () => {
    const { tree } = await run({ sources: ["a.tar"], dest: "/o/", chown: "7:8" });
    for (const e of Object.values(tree)) expect([e.uid, e.gid]).toEqual([7, 8]);
  });

  it("keeps hard links of the archive", async () => {
    const { layerDir, tree } = await run({ sources: ["hardin.tar"], dest: "/h/" });
    expect(tree["h/two"]).toEqual({ type: "file", mode: "0600", uid: 0, gid: 0, content: "1", mtime: 5000 });
    expect((await stat(join(layerDir, "h/one"))).ino).toBe((await stat(join(layerDir, "h/two"))).ino);
  });

  it("replaces what is in the way, merging directories", async () => {
    const { tree } = await run({ sources: ["replace.tar"], dest: "/dst/" });
    expect(tree["dst/sub"]).toMatchObject({ type: "file", content: "now a file" });
    expect(tree["dst/keep"]).toMatchObject({ type: "dir", mode: "0700", uid: 3, gid: 4 });
    expect(tree["dst/keep/new"]).toMatchObject({ content: "n" });
    expect(tree["dst/lnk"]).toMatchObject({ type: "dir", mode: "0750" });
    expect(tree["dst/lnk/inside"]).toMatchObject({ content: "i" });
    expect(tree["dst/plain"]).toMatchObject({ type: "symlink", link: "keep" });
  });

  it("confines every entry to the destination", async () => {
    const { layerDir, tree } = await run({ sources: ["evil.tar"], dest: "/dst/" });
    expect(tree["dst/escape"]).toMatchObject({ content: "esc" });
    expect(tree["dst/abs/file"]).toMatchObject({ content: "abs" });
    expect(tree["dst/lnk"]).toMatchObject({ type: "symlink", link: "/" });
    expect(tree["dst/etc/canary"]).toMatchObject({ content: "canary" });
    expect(tree["dst/canary2"]).toMatchObject({ content: "c2" });
    expect(Object.keys(tree).filter((p) => !p.startsWith("dst"))).toEqual([]);
    expect(await readFile(join(base, "etc/canary"), "utf8")).toBe("original");
    expect(existsSync(join(root, "escape")) || existsSync(join(layerDir, "..", "escape"))).toBe(false);
    await expect(run({ sources: ["hardout.tar"], dest: "/dst/" })).rejects.toThrow(/hard link "hl"/);
  });

  it("refuses entries named like whiteouts", async () => {
    await expect(run({ sources: ["wh.tar"], dest: "/w/" })).rejects.toThrow('/w/d/.wh.victim: names starting with ".wh." are reserved for layer whiteouts');
  });

  it("checks flags as BuildKit does", async () => {
    await expect(run({ sources: ["a.tar"], dest: "/x/", checksum: "sha256:" + "0".repeat(64) })).rejects.toThrow("checksum requires HTTP(S) or Git sources");
    await expect(run({ op: "copy", sources: [`${url}/f`], dest: "/x/" })).rejects.toThrow("source can't be a URL for COPY");
  });
});

describe("ADD of URLs", () => {
  it("downloads with mode 0600, Last-Modified as mtime, the name from the URL path", async () => {
    const { tree } = await run({ sources: [`${url}/dir/file.txt?q=1`], dest: "/u1/" });
    expect(tree).toMatchObject({ "u1/file.txt": { type: "file", mode: "0600", uid: 0, gid: 0, content: "hello url\n", mtime: 1445412480 } });
    expect(Object.keys((await run({ sources: [`${url}/dir/file.txt`], dest: "/u2" })).tree)).toEqual(["u2"]);
    expect(Object.keys((await run({ sources: [`${url}/`], dest: "/u3/" })).tree)).toEqual(["u3", "u3/__unnamed__"]);
    expect((await run({ sources: [`${url}/nolm`], dest: "/u4/" })).tree["u4/nolm"]).toMatchObject({ mtime: 0 });
  });

  it("verifies --checksum", async () => {
    const good = "sha256:" + createHash("sha256").update("hello url\n").digest("hex");
    expect(Object.keys((await run({ sources: [`${url}/f`], dest: "/c/", checksum: good })).tree)).toEqual(["c", "c/f"]);
    await expect(run({ sources: [`${url}/f`], dest: "/c/", checksum: "sha256:" + "1".repeat(64) })).rejects.toThrow(/digest mismatch for http:\/\/127\.0\.0\.1:\d+\/f/);
    await expect(run({ sources: [`${url}/f`], dest: "/c/", checksum: "md5:abc" })).rejects.toThrow(/invalid checksum digest format/);
  });

  it("reports HTTP errors and timeouts clearly", async () => {
    await expect(run({ sources: [`${url}/missing`], dest: "/e/" })).rejects.toThrow(/GET http:\/\/127\.0\.0\.1:\d+\/missing: invalid response status 404/);
    await expect(run({ sources: [`${url}/hang`], dest: "/e/", http: { timeoutMs: 300 } })).rejects.toThrow(/timed out/);
    await expect(run({ sources: ["http://127.0.0.1:1/x"], dest: "/e/" })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("extracts a downloaded archive only with --unpack", async () => {
    expect(Object.keys((await run({ sources: [`${url}/tgz/${TGZ_NAME}`], dest: "/r/" })).tree)).toEqual(["r", `r/${TGZ_NAME}`]);
    expect((await run({ sources: [`${url}/tgz/${TGZ_NAME}`], dest: "/r/", unpack: true })).tree["r/x/t"]).toMatchObject({ content: "tee" });
  });
});
