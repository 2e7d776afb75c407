// Layer writing: determinism, entry encoding, whiteouts, and readability by independent readers.
// Needs root (mknod, trusted.* xattrs) and the attr + tar packages.
import { execFileSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readTar } from "../tar/reader.js";
import type { TarHeader } from "../tar/header.js";
import { RELEASES_CHUNKS, writeLayer } from "./write-layer.js";
import { compressBlob } from "./compression.js";
import { readXattrs } from "./xattr.js";
import { gunzipSync } from "node:zlib";
import { createServer } from "node:net";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync("/dev/shm/oci-wl-");
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Collects everything written to a Writable. */
function sink(): { stream: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  const stream = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
  return { stream, data: () => Buffer.concat(parts) };
}

async function entries(tar: Buffer): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const e of readTar(Readable.from([tar]))) {
    for await (const _ of e.body) { /* drain */ }
    out.push(e.header);
  }
  return out;
}

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" });

function makeTree(dir: string, order: "forward" | "reverse"): void {
  mkdirSync(dir);
  const names = ["b", "a", "c-d", "c", "Z", "é", "a.b"];
  const list = order === "forward" ? names : [...names].reverse();
  for (const n of list) {
    mkdirSync(join(dir, `dir-${n}`));
    writeFileSync(join(dir, `dir-${n}`, "f"), `content of ${n}\n`);
    writeFileSync(join(dir, `file-${n}`), n.repeat(1000));
  }
  for (const n of list) {
    utimesSync(join(dir, `dir-${n}`, "f"), 1_600_000_000, 1_600_000_000);
    utimesSync(join(dir, `file-${n}`), 1_600_000_000, 1_600_000_000);
    utimesSync(join(dir, `dir-${n}`), 1_600_000_000, 1_600_000_000);
  }
}

describe("writeLayer", () => {
  it("gives the same diffID for the same tree, regardless of creation (readdir) order", async () => {
    makeTree(join(tmp, "one"), "forward");
    makeTree(join(tmp, "two"), "reverse");
    const a = await writeLayer({ kind: "dir", dir: join(tmp, "one") }, sink().stream);
    const a2 = await writeLayer({ kind: "dir", dir: join(tmp, "one") }, sink().stream);
    const b = await writeLayer({ kind: "dir", dir: join(tmp, "two") }, sink().stream);
    expect(a.diffID).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a2.diffID).toBe(a.diffID);
    expect(b.diffID).toBe(a.diffID);
  });

  it("returns the sha256 and length of exactly the bytes written, and ends with the end-of-archive marker", async () => {
    makeTree(join(tmp, "t"), "forward");
    const s = sink();
    const r = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, s.stream);
    const tar = s.data();
    expect(r.size).toBe(tar.length);
    expect(r.diffID).toBe(`sha256:${createHash("sha256").update(tar).digest("hex")}`);
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
  });

  it("sorts entries by name in byte order (dirs with their trailing /), parents first, numeric owners, no user names", async () => {
    makeTree(join(tmp, "t"), "reverse");
    const s = sink();
    await writeLayer({ kind: "dir", dir: join(tmp, "t") }, s.stream);
    const hs = await entries(s.data());
    // GNU tar's listing shows the names as stored (directories end in "/").
    const listing = execFileSync("tar", ["-t"], { input: s.data(), encoding: "utf8" }).trim().split("\n");
    expect(listing.map((n) => n.replace(/\/$/, ""))).toEqual(hs.map((h) => h.name));
    const sorted = [...listing].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listing).toEqual(sorted);
    expect(listing.slice(0, 4)).toEqual(["dir-Z/", "dir-Z/f", "dir-a.b/", "dir-a.b/f"]);
    // "-" sorts before "/": dir-c-d/ comes before dir-c/ and its contents.
    expect(listing.indexOf("dir-c-d/")).toBeLessThan(listing.indexOf("dir-c/"));
    for (const h of hs) {
      expect(h.uname).toBe("");
      expect(h.gname).toBe("");
    }
  });

  it("clamps mtimes to SOURCE_DATE_EPOCH and keeps older ones", async () => {
    const d = join(tmp, "t");
    mkdirSync(d);
    writeFileSync(join(d, "new"), "x");
    writeFileSync(join(d, "old"), "x");
    utimesSync(join(d, "new"), 2_000_000_000, 2_000_000_000);
    utimesSync(join(d, "old"), 1_000_000_000.7, 1_000_000_000.7);
    const s = sink();
    await writeLayer({ kind: "dir", dir: d }, s.stream, { sourceDateEpoch: 1_500_000_000 });
    const hs = await entries(s.data());
    expect(hs.find((h) => h.name === "new")!.mtime).toBe(1_500_000_000);
    expect(hs.find((h) => h.name === "old")!.mtime).toBe(1_000_000_000);
  });

  it("writes hardlinks, symlinks, devices, fifos, special mode bits and security.capability", async () => {
    const d = join(tmp, "t");
    mkdirSync(d);
    writeFileSync(join(d, "a"), "data");
    chmodSync(join(d, "a"), 0o4755);
    linkSync(join(d, "a"), join(d, "b"));
    linkSync(join(d, "a"), join(d, "c"));
    symlinkSync("/etc/target", join(d, "sym"));
    sh("mknod", [join(d, "null"), "c", "1", "3"]);
    sh("mknod", [join(d, "blk"), "b", "259", "1048575"]);
    sh("mkfifo", [join(d, "fifo")]);
    mkdirSync(join(d, "tmp"));
    chmodSync(join(d, "tmp"), 0o1777);
    // cap_net_bind_service+ep and cap_setfcap: bytes ≥ 0x80 must survive.
    const cap = "0x01000002000480800000000000000000000000";
    sh("setfattr", ["-n", "security.capability", "-v", `${cap}00`, join(d, "a")]);
    sh("setfattr", ["-n", "user.note", "-v", "hello", join(d, "tmp")]);
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(d, "sock"), r));
    const s = sink();
    await writeLayer({ kind: "dir", dir: d }, s.stream);
    await new Promise((r) => server.close(r));
    const hs = new Map((await entries(s.data())).map((h) => [h.name, h]));
    expect(hs.get("a")).toMatchObject({ type: "file", size: 4, mode: 0o4755 });
    expect(hs.get("a")!.xattrs!.get("security.capability")!.toString("hex")).toBe(`${cap.slice(2)}00`);
    expect(hs.get("b")).toMatchObject({ type: "hardlink", linkname: "a", size: 0 });
    expect(hs.get("c")).toMatchObject({ type: "hardlink", linkname: "a" });
    expect(hs.get("sym")).toMatchObject({ type: "symlink", linkname: "/etc/target" });
    expect(hs.get("null")).toMatchObject({ type: "char", devmajor: 1, devminor: 3 });
    expect(hs.get("blk")).toMatchObject({ type: "block", devmajor: 259, devminor: 1048575 });
    expect(hs.get("fifo")).toMatchObject({ type: "fifo" });
    expect(hs.get("tmp")).toMatchObject({ type: "dir", mode: 0o1777 });
    expect(hs.get("tmp")!.xattrs!.get("user.note")!.toString()).toBe("hello");
    expect(hs.has("sock")).toBe(false);
  });

  it("uses PAX for long and non-ASCII names and long link targets, readable by GNU tar", async () => {
    const d = join(tmp, "t");
    const longDir = "d".repeat(150);
    mkdirSync(join(d, longDir, "ünï"), { recursive: true });
    const longName = `${longDir}/ünï/${"f".repeat(200)}`;
    writeFileSync(join(d, longName), "x");
    symlinkSync("t".repeat(300), join(d, "longlink"));
    const s = sink();
    await writeLayer({ kind: "dir", dir: d }, s.stream);
    const names = (await entries(s.data())).map((h) => [h.name, h.linkname]);
    expect(names).toContainEqual([longName, undefined]);
    expect(names).toContainEqual(["longlink", "t".repeat(300)]);
    const listing = execFileSync("tar", ["-tv"], { input: s.data(), encoding: "utf8" });
    expect(listing).toContain(longName);
    expect(listing).toContain(`longlink -> ${"t".repeat(300)}`);
  });

  it("translates an overlay upper dir: char 0/0 → .wh.<name>, opaque dir → marker right after it", async () => {
    const d = join(tmp, "upper");
    mkdirSync(join(d, "etc", "gone-dir"), { recursive: true });
    rmSync(join(d, "etc", "gone-dir"), { recursive: true });
    sh("mknod", ["-m", "000", join(d, "etc", "gone"), "c", "0", "0"]);
    mkdirSync(join(d, "opaque"));
    writeFileSync(join(d, "opaque", "-first"), "x");
    writeFileSync(join(d, "opaque", "kept"), "x");
    sh("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(d, "opaque")]);
    const s = sink();
    await writeLayer({ kind: "overlay-upper", dir: d }, s.stream);
    const hs = await entries(s.data());
    const names = hs.map((h) => h.name);
    // The opaque marker comes right after its directory even though "-first" sorts before it.
    expect(names).toEqual(["etc", "etc/.wh.gone", "opaque", "opaque/.wh..wh..opq", "opaque/-first", "opaque/kept"]);
    expect(hs[1]).toMatchObject({ type: "file", size: 0 });
    expect(hs.find((h) => h.name === "opaque")!.xattrs).toBeUndefined(); // overlay xattrs never leak into layers
    // The same tree as a plain dir keeps the device and no markers.
    const p = sink();
    await writeLayer({ kind: "dir", dir: d }, p.stream);
    const plain = await entries(p.data());
    expect(plain.map((h) => h.name)).toEqual(["etc", "etc/gone", "opaque", "opaque/-first", "opaque/kept"]);
    expect(plain[1]).toMatchObject({ type: "char", devmajor: 0, devminor: 0 });
  });

  it("uses attributes read beforehand, inline and on the worker thread, for the same bytes", async () => {
    const d = join(tmp, "upper");
    mkdirSync(join(d, "opaque"), { recursive: true });
    writeFileSync(join(d, "opaque", "kept"), "x");
    writeFileSync(join(d, "noted"), "y");
    sh("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(d, "opaque")]);
    sh("setfattr", ["-n", "user.note", "-v", "hello", join(d, "noted")]);
    const plain = sink();
    await writeLayer({ kind: "overlay-upper", dir: d }, plain.stream);
    const xattrs = await readXattrs(d);
    for (const small of [true, false]) {
      const given = sink();
      await writeLayer({ kind: "overlay-upper", dir: d, xattrs }, given.stream, { small });
      expect(given.data().equals(plain.data())).toBe(true);
    }
    const names = (await entries(plain.data())).map((h) => h.name);
    expect(names).toContain("opaque/.wh..wh..opq");
    // Given attributes are trusted as they are: an empty map means "none", no getfattr runs.
    const none = sink();
    await writeLayer({ kind: "overlay-upper", dir: d, xattrs: new Map() }, none.stream);
    expect((await entries(none.data())).map((h) => h.name)).not.toContain("opaque/.wh..wh..opq");
  });

  it("compresses with gzip and zstd in the same pass, reporting both digests", async () => {
    makeTree(join(tmp, "t"), "forward");
    const plain = sink();
    const base = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, plain.stream);
    const gz = sink();
    const g = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, gz.stream, { compression: "gzip" });
    expect(g.diffID).toBe(base.diffID);
    expect(g.compressedSize).toBe(gz.data().length);
    expect(g.digest).toBe(`sha256:${createHash("sha256").update(gz.data()).digest("hex")}`);
    expect(gunzipSync(gz.data()).equals(plain.data())).toBe(true);
    const zs = sink();
    const z = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, zs.stream, { compression: "zstd" });
    expect(z.diffID).toBe(base.diffID);
    expect(zs.data().subarray(0, 4).toString("hex")).toBe("28b52ffd");
    expect(execFileSync("zstd", ["-d", "-c"], { input: zs.data() }).equals(plain.data())).toBe(true);
    // Deterministic compressed output too.
    const zs2 = sink();
    expect((await writeLayer({ kind: "dir", dir: join(tmp, "t") }, zs2.stream, { compression: "zstd" })).digest).toBe(z.digest);
  });

  it("reuses chunk memory only after a declared Writable's write callback", async () => {
    makeTree(join(tmp, "t"), "forward");
    writeFileSync(join(tmp, "t", "big"), Buffer.alloc(4 * 1024 * 1024 + 5, 3));
    const parts: Buffer[] = [];
    // Copies each chunk a little later, then calls back: the chunk must be intact until then.
    const out = new Writable({
      write(c: Buffer, _e, cb) {
        setImmediate(() => {
          parts.push(Buffer.from(c));
          cb();
        });
      },
    });
    (out as unknown as Record<symbol, boolean>)[RELEASES_CHUNKS] = true;
    const r = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, out);
    expect(`sha256:${createHash("sha256").update(Buffer.concat(parts)).digest("hex")}`).toBe(r.diffID);
  });

  it("compressBlob compresses a stored tar lazily, hashing the compressed bytes", async () => {
    makeTree(join(tmp, "t"), "forward");
    const plain = sink();
    const base = await writeLayer({ kind: "dir", dir: join(tmp, "t") }, plain.stream);
    for (const c of ["gzip", "zstd"] as const) {
      const out = sink();
      const r = await compressBlob(Readable.from([plain.data()]), c, out.stream);
      expect(r.size).toBe(out.data().length);
      expect(r.digest).toBe(`sha256:${createHash("sha256").update(out.data()).digest("hex")}`);
      const back = c === "gzip" ? gunzipSync(out.data()) : execFileSync("zstd", ["-d", "-c"], { input: out.data() });
      expect(`sha256:${createHash("sha256").update(back).digest("hex")}`).toBe(base.diffID);
    }
  });

  it("streams a large file in chunks and reports a missing source clearly", async () => {
    const d = join(tmp, "t");
    mkdirSync(d);
    writeFileSync(join(d, "big"), Buffer.alloc(5 * 1024 * 1024 + 3, 7));
    const out = new PassThrough();
    let max = 0;
    out.on("data", (c: Buffer) => (max = Math.max(max, c.length)));
    const r = await writeLayer({ kind: "dir", dir: d }, out);
    expect(r.size).toBe(512 + 5 * 1024 * 1024 + 512 + 1024);
    expect(max).toBeLessThanOrEqual(1 << 20);
    await expect(writeLayer({ kind: "dir", dir: join(tmp, "missing") }, sink().stream)).rejects.toThrow(/layer source directory .*missing cannot be read/);
  });
});
