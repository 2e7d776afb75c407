// Image records: a tag (name:tag) pointing at a manifest (or index) blob. Tagged
// images are the gc roots: everything reachable from them is kept.
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";
import { digestHex } from "../util/digest.js";
import { errno, readJsonFile, writeFileAtomic } from "../util/fs-util.js";
import type { Layout } from "./layout.js";

/** A named image in the local store. */
export interface ImageRecord {
  /** Full reference, e.g. `docker.io/library/alpine:3.20` or `myapp:latest`. */
  name: string;
  /** Digest of the manifest or index blob. */
  manifest: Digest;
  /** Media type of that blob, when known. */
  mediaType?: string;
  /** ISO time when this name was (re)pointed at `manifest`. */
  created: string;
}

export async function putImage(
  layout: Layout,
  name: string,
  image: { manifest: Digest; mediaType?: string; created?: string },
): Promise<ImageRecord> {
  if (typeof name !== "string" || name.length === 0 || name.length > 4096) {
    throw new CacheError("ERR_BAD_IMAGE_NAME", `invalid image name: ${JSON.stringify(name)}`);
  }
  digestHex(image.manifest);
  // Naming an image what it is already named (a rebuild) writes nothing.
  const old = image.created === undefined ? await getImage(layout, name) : undefined;
  if (old && old.manifest === image.manifest && old.mediaType === image.mediaType) return old;
  const rec: ImageRecord = {
    name,
    manifest: image.manifest,
    ...(image.mediaType ? { mediaType: image.mediaType } : {}),
    created: image.created ?? new Date().toISOString(),
  };
  await writeFileAtomic(layout.image(name), JSON.stringify(rec), { tmpDir: layout.tmpDir, durable: true });
  return rec;
}

export async function getImage(layout: Layout, name: string): Promise<ImageRecord | undefined> {
  const rec = await readJsonFile<ImageRecord>(layout.image(name));
  return rec && rec.name === name ? rec : undefined;
}

export async function listImages(layout: Layout): Promise<ImageRecord[]> {
  const names = (await fsp.readdir(layout.imagesDir)).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
  const recs = await Promise.all(names.map((n) => readJsonFile<ImageRecord>(path.join(layout.imagesDir, n))));
  return recs
    .filter((r): r is ImageRecord => !!r && typeof r.name === "string" && typeof r.manifest === "string")
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Removes a name; true when it existed. The image's blobs go at the next gc. */
export async function deleteImage(layout: Layout, name: string): Promise<boolean> {
  try {
    await fsp.unlink(layout.image(name));
    return true;
  } catch (e) {
    if (errno(e) === "ENOENT") return false;
    throw e;
  }
}
