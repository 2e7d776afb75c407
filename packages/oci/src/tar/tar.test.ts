// Header encoding and the reader, including cross-checks with tar-stream (an independent
// implementation) in both directions.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import tarStream from "tar-stream";
import { encodeHeader, END_OF_ARCHIVE, type TarHeader } from "./header.js";
import { readTar } from "./reader.js";

const base: TarHeader = { name: "f", type: "file", mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 };

async function readAll(data: Buffer): Promise<Array<{ h: TarHeader; body: Buffer }>> {
  const out: Array<{ h: TarHeader; body: Buffer }> = [];
  for await (const e of readTar(Readable.from([data]))) {
    const parts: Buffer[] = [];
    for await (const b of e.body) parts.push(b);
    out.push({ h: e.header, body: Buffer.concat(parts) });
  }
  return out;
}

function archive(...entries: Array<[TarHeader, Buffer?]>): Buffer {
  const parts: Buffer[] = [];
  for (const [h, body] of entries) {
    parts.push(encodeHeader(h));
    if (body) parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

describe("tar headers", () => {
  it("encodes sizes of 8 GiB and more, large ids and binary xattrs through PAX", async () => {
    const big = 9 * 1024 ** 3;
    const h: TarHeader = {
      ...base, size: big, uid: 3_000_000, gid: 4_000_000,
      xattrs: new Map([["security.capability", Buffer.from([1, 0, 0, 2, 0xff, 0xfe, 0x80, 0])]]),
    };
    const enc = encodeHeader(h);
    expect(enc.length).toBeGreaterThan(512);
    expect(enc.subarray(0, 512).toString("latin1", 156, 157)).toBe("x");
    const it = readTar(Readable.from([enc, Buffer.alloc(1024)]));
    const first = await it.next();
    const got = first.value!.header;
    expect(got).toMatchObject({ name: "f", size: big, uid: 3_000_000, gid: 4_000_000 });
    expect([...got.xattrs!.get("security.capability")!]).toEqual([1, 0, 0, 2, 0xff, 0xfe, 0x80, 0]);
    await it.return(undefined);
  });

  it("is byte-identical for identical input and sorts PAX records", () => {
    const h: TarHeader = { ...base, name: "ü".repeat(80), xattrs: new Map([["user.b", Buffer.from("2")], ["user.a", Buffer.from("1")]]) };
    const a = encodeHeader(h);
    expect(a.equals(encodeHeader({ ...h, xattrs: new Map([...h.xattrs!].reverse()) }))).toBe(true);
    const pax = a.subarray(512, 1024).toString("utf8");
    const keys = [...pax.matchAll(/\d+ ([^=]+)=/g)].map((m) => m[1]);
    expect(keys).toEqual(["SCHILY.xattr.user.a", "SCHILY.xattr.user.b", "path"]);
  });

  it("is read by tar-stream with the same names, links, modes and contents", async () => {
    const long = `${"d".repeat(120)}/${"n".repeat(110)}`;
    const data = archive(
      [{ ...base, name: "dir", type: "dir", mode: 0o1777 }],
      [{ ...base, name: long, size: 5, mode: 0o4755, uid: 1000, gid: 100 }, Buffer.from("hello")],
      [{ ...base, name: "ln", type: "symlink", linkname: "l".repeat(200), mode: 0o777 }],
      [{ ...base, name: "hl", type: "hardlink", linkname: long }],
      [{ ...base, name: "null", type: "char", devmajor: 1, devminor: 3 }],
    );
    const extract = tarStream.extract();
    const seen: Array<Record<string, unknown>> = [];
    extract.on("entry", (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on("data", (b: Buffer) => parts.push(b));
      stream.on("end", () => {
        seen.push({ name: h.name, type: h.type, mode: h.mode, linkname: h.linkname, uname: h.uname, body: Buffer.concat(parts).toString(), uid: h.uid, devmajor: h.devmajor });
        next();
      });
    });
    await new Promise((res, rej) => {
      extract.on("finish", res);
      extract.on("error", rej);
      extract.end(data);
    });
    expect(seen).toEqual([
      expect.objectContaining({ name: "dir/", type: "directory", mode: 0o1777, uname: "" }),
      expect.objectContaining({ name: long, type: "file", mode: 0o4755, body: "hello", uid: 1000 }),
      expect.objectContaining({ name: "ln", type: "symlink", linkname: "l".repeat(200) }),
      expect.objectContaining({ name: "hl", type: "link", linkname: long }),
      expect.objectContaining({ name: "null", type: "character-device", devmajor: 1 }),
    ]);
  });
});

describe("readTar", () => {
  it("reads tar-stream output, GNU base-256 numbers and skips unread bodies", async () => {
    const pack = tarStream.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (b: Buffer) => chunks.push(b));
    pack.entry({ name: "./a/", type: "directory", mode: 0o755 });
    pack.entry({ name: "./a/file", mode: 0o600, uid: 5, gid: 6, mtime: new Date(1_000_000_000_000) }, "xyz");
    pack.entry({ name: "b", mode: 0o644 }, Buffer.alloc(1000, 1));
    pack.finalize();
    await new Promise((r) => pack.on("end", r));
    const data = Buffer.concat(chunks);
    // Rewrite the uid of the second header as GNU base-256 (and fix its checksum).
    const second = 512;
    data.fill(0, second + 108, second + 116);
    data[second + 108] = 0x80;
    data.writeUInt32BE(0x12345678, second + 112);
    data.fill(0x20, second + 148, second + 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += data[second + i]!;
    data.write(`${sum.toString(8).padStart(6, "0")}\0 `, second + 148, "latin1");
    const entries: TarHeader[] = [];
    for await (const e of readTar(Readable.from([data]))) entries.push(e.header); // bodies left unread
    expect(entries.map((h) => [h.name, h.type, h.size])).toEqual([["a", "dir", 0], ["a/file", "file", 3], ["b", "file", 1000]]);
    expect(entries[1]).toMatchObject({ uid: 0x12345678, gid: 6, mtime: 1_000_000_000, mode: 0o600 });
  });

  it("refuses a bad checksum, a missing end marker and a body cut short", async () => {
    const data = archive([{ ...base, size: 600 }, Buffer.alloc(600, 1)]);
    const bad = Buffer.from(data);
    bad[10] = 0x41;
    await expect(readAll(bad)).rejects.toMatchObject({ code: "INVALID_TAR", message: expect.stringContaining("checksum") });
    await expect(readAll(data.subarray(0, 1536))).rejects.toMatchObject({ code: "TRUNCATED", message: expect.stringContaining("end-of-archive") });
    await expect(readAll(data.subarray(0, 700))).rejects.toMatchObject({ code: "TRUNCATED", message: expect.stringContaining('"f"') });
    expect((await readAll(data))[0]!.body.length).toBe(600);
  });

  it("refuses GNU sparse files", async () => {
    const h = encodeHeader({ ...base });
    const pax = Buffer.from("22 GNU.sparse.major=1\n");
    const paxHdr = encodeHeader({ ...base, name: "p", size: pax.length });
    paxHdr[156] = 0x78;
    paxHdr.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += paxHdr[i]!;
    paxHdr.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const data = Buffer.concat([paxHdr, pax, Buffer.alloc(512 - pax.length), h, END_OF_ARCHIVE]);
    await expect(readAll(data)).rejects.toMatchObject({ code: "UNSUPPORTED", message: expect.stringContaining("sparse") });
  });
});
