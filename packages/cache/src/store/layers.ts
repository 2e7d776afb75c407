// Layer records: what we know about a layer beyond its bytes. The uncompressed digest
// (diffID) is the identity; compressed variants are produced lazily at export/push
// time and remembered here so the next export reuses them. Each fact is its own small
// file (base record, one file per compression), so concurrent writers never need a
// read-modify-write and cannot lose each other's updates.
import { promises as fsp } from "node:fs";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { digestHex, isDigest } from "../util/digest.js";
import { readJsonFile, writeFileAtomic } from "../util/fs-util.js";
import type { BlobInfo } from "./blob-writer.js";
import type { Layout } from "./layout.js";

/** Compression formats the store records variants for. */
export type LayerCompression = "gzip" | "zstd";
const COMPRESSIONS: readonly LayerCompression[] = ["gzip", "zstd"];

/** A layer: uncompressed digest and size, plus known compressed blobs. */
export interface LayerRecord {
  diffID: Digest;
  /** Uncompressed size in bytes. */
  size: number;
  compressed: Partial<Record<LayerCompression, BlobInfo>>;
}

function checkCompression(c: string): asserts c is LayerCompression {
  if (!COMPRESSIONS.includes(c as LayerCompression)) {
    throw new CacheError("ERR_BAD_COMPRESSION", `unknown layer compression ${JSON.stringify(c)} (expected gzip or zstd)`);
  }
}

/** Records a layer's uncompressed digest and size. */
export async function putLayer(layout: Layout, diffID: Digest, size: number): Promise<void> {
  digestHex(diffID);
  await writeFileAtomic(layout.layer(diffID), JSON.stringify({ diffID, size }), { tmpDir: layout.tmpDir });
}

/** Records that `blob` is `diffID` compressed with `compression`. */
export async function putLayerVariant(layout: Layout, diffID: Digest, compression: LayerCompression, blob: BlobInfo): Promise<void> {
  digestHex(diffID);
  digestHex(blob.digest);
  checkCompression(compression);
  await writeFileAtomic(layout.layerVariant(diffID, compression), JSON.stringify({ digest: blob.digest, size: blob.size }), {
    tmpDir: layout.tmpDir,
  });
}

/** The layer record of `diffID`, or undefined when the layer is unknown. */
export async function getLayer(layout: Layout, diffID: Digest): Promise<LayerRecord | undefined> {
  const base = await readJsonFile<{ diffID: Digest; size: number }>(layout.layer(diffID));
  const compressed: LayerRecord["compressed"] = {};
  for (const c of COMPRESSIONS) {
    const v = await readJsonFile<BlobInfo>(layout.layerVariant(diffID, c));
    if (v && isDigest(v.digest) && typeof v.size === "number") compressed[c] = { digest: v.digest, size: v.size };
  }
  if (!base && Object.keys(compressed).length === 0) return undefined;
  return { diffID, size: base?.size ?? -1, compressed };
}

/** Every layer record file, parsed: diffID → record. */
export async function listLayers(layout: Layout): Promise<Map<Digest, LayerRecord & { files: string[] }>> {
  const out = new Map<Digest, LayerRecord & { files: string[] }>();
  const names = await fsp.readdir(layout.layersDir);
  await Promise.all(
    names.map(async (n) => {
      const m = /^([0-9a-f]{64})(?:\.(gzip|zstd))?\.json$/.exec(n);
      if (!m) return;
      const diffID = `sha256:${m[1]}` as Digest;
      let rec = out.get(diffID);
      if (!rec) out.set(diffID, (rec = { diffID, size: -1, compressed: {}, files: [] }));
      rec.files.push(n);
      const data = await readJsonFile<Record<string, unknown>>(`${layout.layersDir}/${n}`);
      if (!data) return;
      if (m[2]) {
        if (isDigest(data.digest) && typeof data.size === "number") {
          rec.compressed[m[2] as LayerCompression] = { digest: data.digest, size: data.size };
        }
      } else if (typeof data.size === "number") {
        rec.size = data.size;
      }
    }),
  );
  return out;
}
