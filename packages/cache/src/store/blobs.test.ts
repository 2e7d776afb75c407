import { promises as fsp, readFileSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobCorruptedError, BlobNotFoundError, DigestMismatchError } from "../errors.js";
import { sha256Digest } from "../util/digest.js";
import { scratchDir } from "../test-support/tmp.js";
import { Store } from "./store.js";

let tmp: ReturnType<typeof scratchDir>;
let store: Store;
beforeEach(async () => {
  tmp = scratchDir();
  store = await Store.open(tmp.dir, { gracePeriodMs: 0 });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("blobs", () => {
  it("stores bytes under their digest and reads them back verified", async () => {
    const info = await store.putBlob("hello");
    expect(info).toEqual({ digest: sha256Digest("hello"), size: 5 });
    expect(await store.hasBlob(info.digest)).toBe(true);
    expect(await store.size(info.digest)).toBe(5);
    expect((await readAll(await store.open(info.digest))).toString()).toBe("hello");
    expect(readFileSync(store.blobPath(info.digest), "utf8")).toBe("hello");
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("streams large data from a Readable and through a BlobWriter", async () => {
    const big = Buffer.alloc(3 << 20, 7);
    const a = await store.putBlob(Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    expect(a).toEqual({ digest: sha256Digest(big), size: big.length });
    const w = await store.blobWriter();
    w.write(big.subarray(0, 5));
    w.end(big.subarray(5));
    expect(await w.commit({ digest: a.digest })).toEqual(a);
  });

  it("rejects content that does not match the expected digest or size, leaving nothing behind", async () => {
    const wrong = sha256Digest("other");
    await expect(store.putBlob("hello", { digest: wrong })).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(store.putBlob("hello", { size: 4 })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await store.hasBlob(wrong)).toBe(false);
    expect(await store.hasBlob(sha256Digest("hello"))).toBe(false);
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });

  it("does not read the data again when the expected blob exists", async () => {
    const info = await store.putBlob("abc");
    const src = new Readable({ read() { throw new Error("must not be read"); } });
    expect(await store.putBlob(src, { digest: info.digest, size: 3 })).toEqual(info);
    expect(src.destroyed).toBe(true);
  });

  it("reports a missing blob with BlobNotFoundError", async () => {
    const d = sha256Digest("nope");
    await expect(store.open(d)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(readAll(store.openBlob(d))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(store.size(d)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.verifyBlob(d)).toBe(false);
  });

  it("refuses malformed digests instead of turning them into paths", async () => {
    expect(() => store.blobPath("sha256:../../etc/passwd" as never)).toThrow(/not a valid sha256 digest/);
  });

  it("detects a flipped byte when reading, never serves it, and quarantines the blob", async () => {
    const data = Buffer.alloc(100_000, 1);
    const { digest } = await store.putBlob(data);
    const p = store.blobPath(digest);
    const bad = readFileSync(p);
    bad[50_000] ^= 0xff;
    writeFileSync(p, bad);
    const err = await readAll(store.openBlob(digest, { verify: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobCorruptedError);
    expect((err as BlobCorruptedError).digest).toBe(digest);
    expect(await store.hasBlob(digest)).toBe(false);
    expect((await fsp.readdir(store.layout.quarantineDir)).length).toBe(1);
    // The caller re-fetches: putting the right bytes again works.
    await store.putBlob(data, { digest });
    expect(await store.verifyBlob(digest)).toBe(true);
  });

  it("verifyBlob and readBlob detect corruption too", async () => {
    const a = await store.putBlob("manifest-json");
    writeFileSync(store.blobPath(a.digest), "manifest-jsoN");
    expect(await store.verifyBlob(a.digest)).toBe(false);
    expect(await store.hasBlob(a.digest)).toBe(false);
    const b = await store.putBlob("config-json");
    writeFileSync(store.blobPath(b.digest), "config-jsoN");
    await expect(store.readBlob(b.digest)).rejects.toBeInstanceOf(BlobCorruptedError);
    expect(await store.hasBlob(b.digest)).toBe(false);
  });

  it("openBlob without verify streams the raw bytes", async () => {
    const a = await store.putBlob("xyz");
    writeFileSync(store.blobPath(a.digest), "xyZ");
    expect((await readAll(store.openBlob(a.digest, { verify: false }))).toString()).toBe("xyZ");
  });

  it("aborting a BlobWriter leaves no temp file", async () => {
    const w = await store.blobWriter();
    w.write("partial");
    await w.abort();
    expect(await fsp.readdir(store.layout.tmpDir)).toEqual([]);
  });
});

describe("layer records", () => {
  it("records a diffID with compressed variants written independently", async () => {
    const diffID = sha256Digest("tar");
    const gz = await store.putBlob("gz-bytes");
    const zs = await store.putBlob("zstd-bytes");
    await store.putLayer(diffID, 1234);
    await Promise.all([store.putLayerVariant(diffID, "gzip", gz), store.putLayerVariant(diffID, "zstd", zs)]);
    expect(await store.getLayer(diffID)).toEqual({ diffID, size: 1234, compressed: { gzip: gz, zstd: zs } });
    expect(await store.getLayer(sha256Digest("unknown"))).toBeUndefined();
    await expect(store.putLayerVariant(diffID, "lz4" as never, gz)).rejects.toThrow(/unknown layer compression/);
  });
});

describe("images", () => {
  it("tags, lists and deletes images", async () => {
    const m = await store.putBlob("{}");
    await store.putImage("docker.io/library/alpine:3.20", { manifest: m.digest });
    await store.putImage("myapp:latest", { manifest: m.digest, mediaType: "application/vnd.oci.image.manifest.v1+json" });
    expect((await store.listImages()).map((i) => i.name)).toEqual(["docker.io/library/alpine:3.20", "myapp:latest"]);
    expect((await store.getImage("myapp:latest"))?.manifest).toBe(m.digest);
    expect(await store.deleteImage("myapp:latest")).toBe(true);
    expect(await store.getImage("myapp:latest")).toBeUndefined();
  });
});
