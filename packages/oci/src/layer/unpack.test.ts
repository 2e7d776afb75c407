// Unpacking: round trips through writeLayer, both whiteout modes, and archives written by
// GNU tar. Needs root (mknod, chown, trusted.* xattrs), attr, tar and zstd.
import { execFileSync } from "node:child_process";
import {
  chmodSync, createReadStream, createWriteStream, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync,
  rmSync, symlinkSync, utimesSync, writeFileSync, lchownSync, existsSync,
} from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { snapshotTree } from "../testing/tree-snapshot.js";
import { unpackLayer } from "./unpack.js";
import { writeLayer } from "./write-layer.js";
import type { Compression } from "../types.js";
import tarStream from "tar-stream";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync("/dev/shm/oci-up-");
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (cmd: string, ...args: string[]): void => void execFileSync(cmd, args);

/** An overlay upper dir with every kind of entry tbuild must carry. */
function makeUpper(d: string): void {
  mkdirSync(join(d, "usr", "bin"), { recursive: true });
  writeFileSync(join(d, "usr", "bin", "ping"), "ELF...");
  chmodSync(join(d, "usr", "bin", "ping"), 0o4755);
  sh("setfattr", "-n", "security.capability", "-v", "0x0100000200200000ff0000000000000000000000", join(d, "usr", "bin", "ping"));
  linkSync(join(d, "usr", "bin", "ping"), join(d, "usr", "bin", "ping6"));
  writeFileSync(join(d, "usr", "bin", "owned"), "x");
  lchownSync(join(d, "usr", "bin", "owned"), 1234, 5678);
  symlinkSync("usr/bin", join(d, "bin"));
  lchownSync(join(d, "bin"), 7, 8);
  mkdirSync(join(d, "dev"));
  sh("mknod", join(d, "dev", "null"), "c", "1", "3");
  sh("mknod", join(d, "dev", "loop0"), "b", "7", "0");
  sh("mkfifo", "-m", "0600", join(d, "dev", "fifo"));
  mkdirSync(join(d, "tmp"));
  chmodSync(join(d, "tmp"), 0o1777);
  mkdirSync(join(d, "setgid"));
  chmodSync(join(d, "setgid"), 0o2750);
  sh("mknod", "-m", "000", join(d, "usr", "deleted"), "c", "0", "0");
  mkdirSync(join(d, "var", "cache"), { recursive: true });
  writeFileSync(join(d, "var", "cache", "new"), "fresh");
  sh("setfattr", "-n", "trusted.overlay.opaque", "-v", "y", join(d, "var", "cache"));
  writeFileSync(join(d, "big"), Buffer.alloc(3 << 20, 0x5a));
  for (const p of ["usr/bin/ping", "usr/bin/owned", "dev/null", "dev/fifo", "var/cache/new", "var/cache", "var", "usr/bin", "usr", "dev", "tmp", "big", "setgid"]) {
    utimesSync(join(d, p), 1_650_000_000, 1_650_000_000);
  }
  execFileSync("touch", ["-h", "-d", "@1650000000", join(d, "bin"), join(d, "usr", "deleted")]);
}

async function layerFile(src: string, kind: "overlay-upper" | "dir", compression: Compression): Promise<{ file: string; diffID: string; digest?: string }> {
  const file = join(tmp, `layer.${compression}`);
  const r = await writeLayer({ kind, dir: src }, createWriteStream(file), { compression });
  return { file, diffID: r.diffID, digest: r.digest };
}

describe("unpackLayer", () => {
  for (const compression of ["none", "gzip", "zstd"] as const) {
    it(`round-trips an overlay upper dir (${compression}): upper → tar → unpack overlay → same upper`, async () => {
      const upper = join(tmp, "upper");
      makeUpper(upper);
      const { file, diffID, digest } = await layerFile(upper, "overlay-upper", compression);
      const out = join(tmp, "out");
      const r = await unpackLayer(createReadStream(file), out, {
        whiteouts: "overlay", expectedDiffID: diffID as `sha256:${string}`, expectedDigest: (digest ?? diffID) as `sha256:${string}`,
      });
      expect(r.compression).toBe(compression);
      expect(r.diffID).toBe(diffID);
      expect(await snapshotTree(out)).toEqual(await snapshotTree(upper));
      // And the snapshot is a valid source again: the same layer comes out.
      const again = await layerFile(out, "overlay-upper", "none");
      expect(again.diffID).toBe(diffID);
    });
  }

  it("applies whiteouts and opaque dirs onto an existing rootfs in apply mode", async () => {
    const root = join(tmp, "root");
    mkdirSync(join(root, "etc", "conf.d"), { recursive: true });
    writeFileSync(join(root, "etc", "keep"), "k");
    writeFileSync(join(root, "etc", "drop"), "d");
    writeFileSync(join(root, "etc", "conf.d", "old"), "o");
    mkdirSync(join(root, "gone", "deep"), { recursive: true });
    const upper = join(tmp, "upper");
    mkdirSync(join(upper, "etc", "conf.d"), { recursive: true });
    sh("mknod", join(upper, "etc", "drop"), "c", "0", "0");
    sh("mknod", join(upper, "gone"), "c", "0", "0");
    writeFileSync(join(upper, "etc", "conf.d", "new"), "n");
    sh("setfattr", "-n", "trusted.overlay.opaque", "-v", "y", join(upper, "etc", "conf.d"));
    const { file } = await layerFile(upper, "overlay-upper", "gzip");
    await unpackLayer(createReadStream(file), root, { whiteouts: "apply" });
    expect(existsSync(join(root, "etc", "keep"))).toBe(true);
    expect(existsSync(join(root, "etc", "drop"))).toBe(false);
    expect(existsSync(join(root, "gone"))).toBe(false);
    expect(existsSync(join(root, "etc", "conf.d", "old"))).toBe(false);
    expect(readFileSync(join(root, "etc", "conf.d", "new"), "utf8")).toBe("n");
  });

  it("replaces what is there: files by dirs, dirs by files, symlinks and links, as tar does", async () => {
    const root = join(tmp, "root");
    mkdirSync(join(root, "d", "deep"), { recursive: true });
    writeFileSync(join(root, "d", "deep", "f"), "lower");
    writeFileSync(join(root, "x"), "lower");
    symlinkSync("/etc/passwd", join(root, "s"));
    writeFileSync(join(root, "h"), "lower");
    writeFileSync(join(root, "keep"), "keep");
    const pack = tarStream.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (b: Buffer) => chunks.push(b));
    pack.entry({ name: "x", type: "directory", mode: 0o755 });
    pack.entry({ name: "x/inside", mode: 0o644 }, "in");
    pack.entry({ name: "d", mode: 0o644 }, "now a file");
    pack.entry({ name: "s", mode: 0o600 }, "not a link");
    pack.entry({ name: "h", type: "link", linkname: "keep" });
    pack.entry({ name: "twice", mode: 0o644 }, "first");
    pack.entry({ name: "twice", mode: 0o644 }, "second");
    pack.finalize();
    await new Promise((r) => pack.on("end", r));
    await unpackLayer(Readable.from([Buffer.concat(chunks)]), root, { whiteouts: "apply" });
    expect(readFileSync(join(root, "x", "inside"), "utf8")).toBe("in");
    expect(readFileSync(join(root, "d"), "utf8")).toBe("now a file");
    expect(lstatSync(join(root, "s")).isFile()).toBe(true);
    expect(lstatSync(join(root, "h")).ino).toBe(lstatSync(join(root, "keep")).ino);
    expect(readFileSync(join(root, "twice"), "utf8")).toBe("second");
  });

  it("restores hardlinks as one inode and keeps setuid after chown", async () => {
    const upper = join(tmp, "upper");
    makeUpper(upper);
    const { file } = await layerFile(upper, "dir", "none");
    const out = join(tmp, "out");
    await unpackLayer(createReadStream(file), out, { whiteouts: "overlay" });
    const a = lstatSync(join(out, "usr", "bin", "ping"));
    const b = lstatSync(join(out, "usr", "bin", "ping6"));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(a.mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(out, "usr", "bin", "owned"))).toMatchObject({ uid: 1234, gid: 5678 });
  });

  it("reads archives written by GNU tar (gnu and pax formats, xattrs, long names)", async () => {
    const src = join(tmp, "src");
    const long = `${"x".repeat(120)}/${"y".repeat(130)}`;
    mkdirSync(join(src, "x".repeat(120)), { recursive: true });
    writeFileSync(join(src, long), "long");
    writeFileSync(join(src, "cap"), "c");
    sh("setfattr", "-n", "security.capability", "-v", "0x0100000200200000ff0000000000000000000000", join(src, "cap"));
    symlinkSync("z".repeat(150), join(src, "lnk"));
    for (const format of ["gnu", "posix"]) {
      const tarFile = join(tmp, `${format}.tar`);
      sh("tar", "-c", "-f", tarFile, `--format=${format}`, "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", src, ".");
      const out = join(tmp, `out-${format}`);
      await unpackLayer(Readable.from([readFileSync(tarFile)]), out, { whiteouts: "apply" });
      expect(readFileSync(join(out, long), "utf8")).toBe("long");
      const want = await snapshotTree(src, { dirMtimes: false });
      const got = await snapshotTree(out, { dirMtimes: false });
      expect(got).toEqual(want);
    }
  });

  it("fails on a wrong diffID or digest and on a truncated gzip blob", async () => {
    const upper = join(tmp, "upper");
    makeUpper(upper);
    const { file, diffID } = await layerFile(upper, "overlay-upper", "gzip");
    const wrong = `sha256:${"0".repeat(64)}` as const;
    await expect(unpackLayer(createReadStream(file), join(tmp, "a"), { whiteouts: "overlay", expectedDiffID: wrong }))
      .rejects.toMatchObject({ code: "DIGEST_MISMATCH", message: expect.stringContaining(diffID) });
    await expect(unpackLayer(createReadStream(file), join(tmp, "b"), { whiteouts: "overlay", expectedDigest: wrong }))
      .rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    const data = readFileSync(file);
    await expect(unpackLayer(Readable.from([data.subarray(0, data.length - 100)]), join(tmp, "c"), { whiteouts: "overlay" }))
      .rejects.toMatchObject({ code: "TRUNCATED" });
    const plain = (await layerFile(upper, "overlay-upper", "none")).file;
    const tar = readFileSync(plain);
    await expect(unpackLayer(Readable.from([tar.subarray(0, 4096)]), join(tmp, "d"), { whiteouts: "overlay" }))
      .rejects.toMatchObject({ code: "TRUNCATED" });
  });
});
