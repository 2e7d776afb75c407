// The compiled package writes layers from a worker thread (with chunk memory handed back and
// forth); vitest runs the TypeScript sources, which produce inline. Both must give the same
// bytes, and what lands in a file must hash to the reported digests (a reused chunk that was
// still in use would corrupt it). Needs the build (npm test builds first).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as src from "@tbuild/oci";

const distEntry = fileURLToPath(new URL("../packages/oci/dist/index.js", import.meta.url));
const built = existsSync(distEntry);
if (!built && process.env.CI === "true") throw new Error(`${distEntry} is missing; build first (npm run build)`);
if (!built) console.warn("skipping: packages/oci is not built (run npm run build)");

let tmp: string;
beforeAll(() => {
  if (!built) return;
  tmp = mkdtempSync("/dev/shm/oci-worker-");
  // Enough data for many 1 MiB chunks, with files straddling chunk boundaries.
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(tmp, "tree", `d${d}`), { recursive: true });
    for (let f = 0; f < 60; f++) {
      const size = (d * 60 + f) * 997 % 70_000;
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i += 64) buf[i] = (d * 31 + f + i) & 0xff;
      writeFileSync(join(tmp, "tree", `d${d}`, `f${f}`), buf);
    }
  }
  writeFileSync(join(tmp, "tree", "big"), Buffer.alloc(5 * 1024 * 1024 + 123, 9));
});
afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));

const fileDigest = (p: string): string => `sha256:${createHash("sha256").update(readFileSync(p)).digest("hex")}`;

describe.runIf(built)("layer writing in a worker thread (compiled package)", () => {
  it("produces the same layer as the inline producer, intact on disk", async () => {
    const dist = (await import(distEntry)) as typeof src;
    const source = { kind: "dir" as const, dir: join(tmp, "tree") };
    const inline = await src.writeLayer(source, createWriteStream(join(tmp, "inline.tar")));
    const results = await Promise.all([0, 1, 2].map((i) => dist.writeLayer(source, createWriteStream(join(tmp, `worker${i}.tar`)))));
    for (let i = 0; i < 3; i++) {
      expect(results[i]!.diffID).toBe(inline.diffID);
      expect(fileDigest(join(tmp, `worker${i}.tar`))).toBe(inline.diffID);
    }
    const gz = await dist.writeLayer(source, createWriteStream(join(tmp, "worker.tar.gz")), { compression: "gzip" });
    expect(gz.diffID).toBe(inline.diffID);
    expect(fileDigest(join(tmp, "worker.tar.gz"))).toBe(gz.digest);
    expect(`sha256:${createHash("sha256").update(gunzipSync(readFileSync(join(tmp, "worker.tar.gz")))).digest("hex")}`).toBe(inline.diffID);
    // And it unpacks.
    const out = join(tmp, "out");
    await dist.unpackLayer(createReadStream(join(tmp, "worker.tar.gz")), out, { whiteouts: "overlay", expectedDigest: gz.digest, expectedDiffID: gz.diffID });
    expect(readFileSync(join(out, "d7", "f3")).equals(readFileSync(join(tmp, "tree", "d7", "f3")))).toBe(true);
  });

  it("reports a missing source from the worker as a clear error", async () => {
    const dist = (await import(distEntry)) as typeof src;
    await expect(dist.writeLayer({ kind: "dir", dir: join(tmp, "nope") }, createWriteStream(join(tmp, "x.tar"))))
      .rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("cannot be read") });
  });
});
