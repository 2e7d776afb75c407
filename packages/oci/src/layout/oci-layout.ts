// OCI image layout directories: oci-layout, index.json, blobs/sha256/<hex>.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { OciError } from "../errors.js";
import { parseIndex, serializeDocument } from "../image/documents.js";
import { MediaType, type Descriptor, type Index } from "../types.js";
import { verified, type BlobSource } from "./blob-source.js";
import { blobPath, planExport, REF_NAME, type ExportRoot } from "./export-roots.js";
import { readLayoutImages, type ImageSet } from "./read-images.js";

/** The content of the `oci-layout` file. */
export const OCI_LAYOUT_FILE = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

async function sizeOrNull(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

async function atomicWrite(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Merges new index.json entries into existing ones: an entry with the same ref name is replaced. */
function mergeEntries(existing: Descriptor[], added: Descriptor[]): Descriptor[] {
  const names = new Set(added.map((d) => d.annotations?.[REF_NAME]).filter((n): n is string => n !== undefined));
  const kept = existing.filter((d) => {
    const n = d.annotations?.[REF_NAME];
    if (n !== undefined) return !names.has(n);
    return !added.some((a) => a.digest === d.digest && a.annotations === undefined);
  });
  return [...kept, ...added];
}

/** Options of writeOciLayout. */
export interface WriteLayoutOptions {
  /** Keep the entries of an existing index.json (default true); same-named ones are replaced. */
  merge?: boolean;
}

/**
 * Writes images into an OCI image layout directory (created if needed). Blobs are streamed
 * from `source`, verified, and written to temp files renamed into place; blobs already
 * present with the right size are kept. index.json gets one entry per name, annotated with
 * `org.opencontainers.image.ref.name` (the tag) and `io.containerd.image.name` (the full
 * name), so `skopeo inspect oci:DIR:TAG` finds them. Returns the index.json written.
 */
export async function writeOciLayout(dir: string, roots: ExportRoot[], source: BlobSource, opts: WriteLayoutOptions = {}): Promise<Index> {
  const plan = await planExport(roots, source);
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await atomicWrite(join(dir, "oci-layout"), OCI_LAYOUT_FILE);
  for (const [digest, bytes] of plan.documents) {
    const p = join(dir, blobPath(digest));
    if ((await sizeOrNull(p)) !== bytes.length) await atomicWrite(p, bytes);
  }
  for (const b of plan.blobs) {
    const p = join(dir, blobPath(b.digest));
    if ((await sizeOrNull(p)) === b.size) continue;
    const tmp = `${p}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await pipeline(verified(await source.open(b.digest), b.digest, b.size, `${b.what} ${b.digest}`), createWriteStream(tmp));
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
  let existing: Descriptor[] = [];
  if (opts.merge !== false) {
    const raw = await readFile(join(dir, "index.json")).catch(() => undefined);
    if (raw) existing = parseIndex(raw, `index.json in ${dir}`).manifests;
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: mergeEntries(existing, plan.entries) };
  await atomicWrite(join(dir, "index.json"), serializeDocument(index).bytes);
  return index;
}

/** Reads an OCI image layout directory: its images and a verified BlobSource for its blobs. */
export async function readOciLayout(dir: string): Promise<ImageSet> {
  const where = `OCI layout ${dir}`;
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new OciError("NOT_FOUND", `${where} does not exist or is not a directory.`);
  return readLayoutImages({
    where,
    size: async (p) => (await stat(join(dir, p))).size,
    open: async (p) => createReadStream(join(dir, p)),
  });
}
