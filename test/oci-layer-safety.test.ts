// Hostile layers against unpackLayer: every archive here tries to touch a canary directory
// next to the target. Each must be refused with a clear error naming the entry, and the
// canary must be byte-for-byte untouched. Archives are made with tar-stream, an independent
// writer, so our own writer's habits cannot hide a reader bug. Needs root (chown in unpack).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import tarStream from "tar-stream";
import { unpackLayer, type Digest } from "@tbuild/oci";
import { createHash } from "node:crypto";

type Entry = { name: string; type?: "file" | "directory" | "symlink" | "link"; linkname?: string; body?: string };

let tmp: string;
let target: string;
let canary: string;

beforeEach(() => {
  tmp = mkdtempSync("/dev/shm/oci-safety-");
  target = join(tmp, "target");
  canary = join(tmp, "canary");
  mkdirSync(canary);
  writeFileSync(join(canary, "canary.txt"), "do not touch\n");
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function canaryUntouched(): void {
  expect(readdirSync(canary)).toEqual(["canary.txt"]);
  expect(readFileSync(join(canary, "canary.txt"), "utf8")).toBe("do not touch\n");
  expect(existsSync(join(tmp, "escaped"))).toBe(false);
}

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (b: Buffer) => chunks.push(b));
  for (const e of entries) {
    const type = e.type ?? "file";
    pack.entry({ name: e.name, type, linkname: e.linkname, mode: type === "directory" ? 0o755 : 0o644, mtime: new Date(0) }, type === "file" ? (e.body ?? "pwned\n") : undefined);
  }
  pack.finalize();
  await new Promise((r) => pack.on("end", r));
  return Buffer.concat(chunks);
}

async function refused(entries: Entry[], mention: string, mode: "overlay" | "apply" = "apply"): Promise<void> {
  const tar = await makeTar(entries);
  await expect(unpackLayer(Readable.from([tar]), target, { whiteouts: mode })).rejects.toMatchObject({
    code: "UNSAFE_PATH",
    message: expect.stringContaining(mention),
  });
  canaryUntouched();
}

describe("unpackLayer refuses hostile layers", () => {
  it('refuses "../" names that climb out of the target', async () => {
    await refused([{ name: "../escaped" }], '"../escaped"');
    await refused([{ name: "a/../../escaped" }], "climbs out");
    await refused([{ name: "../canary/canary.txt" }], "canary.txt");
  });

  it("makes absolute names relative, as Docker does", async () => {
    const tar = await makeTar([{ name: `${canary}/canary.txt`, body: "inside\n" }]);
    await unpackLayer(Readable.from([tar]), target, { whiteouts: "apply" });
    expect(readFileSync(join(target, canary, "canary.txt"), "utf8")).toBe("inside\n");
    canaryUntouched();
  });

  it("never writes through a symlink that points outside (absolute or relative)", async () => {
    await refused([{ name: "evil", type: "symlink", linkname: canary }, { name: "evil/canary.txt" }], "evil/canary.txt");
    await refused([{ name: "evil", type: "symlink", linkname: "../canary" }, { name: "evil/new" }], "points outside");
    await refused([{ name: "d", type: "directory" }, { name: "d/up", type: "symlink", linkname: "../../canary" }, { name: "d/up/new", type: "directory" }], "d/up/new");
    // A chain: an inside symlink to another one that leads out.
    await refused([{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "/" }, { name: "a/escaped" }], "a/escaped");
  });

  it("replaces a symlink by a file of the same name instead of writing through it", async () => {
    const tar = await makeTar([{ name: "x", type: "symlink", linkname: join(canary, "canary.txt") }, { name: "x", body: "new\n" }]);
    await unpackLayer(Readable.from([tar]), target, { whiteouts: "apply" });
    expect(readFileSync(join(target, "x"), "utf8")).toBe("new\n");
    canaryUntouched();
  });

  it("follows symlinks that stay inside the target, and absolute ones only in rooted mode", async () => {
    const inside = await makeTar([{ name: "usr/lib", type: "directory" }, { name: "lib", type: "symlink", linkname: "usr/lib" }, { name: "lib/x.so" }]);
    await unpackLayer(Readable.from([inside]), target, { whiteouts: "apply" });
    expect(existsSync(join(target, "usr", "lib", "x.so"))).toBe(true);
    const rooted = await makeTar([{ name: "var/run", type: "symlink", linkname: "/run" }, { name: "var/run/pid" }]);
    await unpackLayer(Readable.from([rooted]), join(tmp, "rooted"), { whiteouts: "apply", rootedSymlinks: true });
    expect(existsSync(join(tmp, "rooted", "run", "pid"))).toBe(true);
    canaryUntouched();
  });

  it("refuses hardlinks to outside, through outside symlinks, and to missing targets", async () => {
    await refused([{ name: "hl", type: "link", linkname: "../canary/canary.txt" }], '"hl"');
    await refused([{ name: "s", type: "symlink", linkname: canary }, { name: "hl", type: "link", linkname: "s/canary.txt" }], "points outside");
    await refused([{ name: "hl", type: "link", linkname: `${canary}/canary.txt` }], "does not exist");
    await refused([{ name: "hl", type: "link", linkname: "nothing-here" }], "does not exist");
  });

  it("refuses whiteouts of '..' and whiteouts reached through outside symlinks", async () => {
    await refused([{ name: ".wh..." }], "names no file");
    await refused([{ name: "d/.wh..." }], "names no file", "overlay");
    await refused([{ name: "evil", type: "symlink", linkname: canary }, { name: "evil/.wh.canary.txt" }], "evil/.wh.canary.txt");
    await refused([{ name: "evil", type: "symlink", linkname: "../canary" }, { name: "evil/.wh..wh..opq" }], "points outside");
  });

  it("fails a layer with a wrong digest or a truncated blob, leaving the canary alone", async () => {
    const tar = await makeTar([{ name: "ok", body: "x".repeat(5000) }]);
    const gz = gzipSync(tar);
    const wrong = `sha256:${createHash("sha256").update("other").digest("hex")}` as Digest;
    await expect(unpackLayer(Readable.from([gz]), join(tmp, "t1"), { whiteouts: "overlay", expectedDigest: wrong }))
      .rejects.toMatchObject({ code: "DIGEST_MISMATCH", message: expect.stringContaining(wrong) });
    await expect(unpackLayer(Readable.from([gz.subarray(0, gz.length - 10)]), join(tmp, "t2"), { whiteouts: "overlay" }))
      .rejects.toMatchObject({ code: "TRUNCATED" });
    await expect(unpackLayer(Readable.from([tar.subarray(0, 1024)]), join(tmp, "t3"), { whiteouts: "overlay" }))
      .rejects.toMatchObject({ code: "TRUNCATED", message: expect.stringContaining('"ok"') });
    canaryUntouched();
  });
});
