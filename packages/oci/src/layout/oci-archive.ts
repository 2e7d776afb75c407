// oci-archive: an OCI image layout packed in a tar file (what `skopeo copy … oci-archive:`
// and BuildKit's `--output type=oci` produce).
import { destroyWithError } from "../util/destroy.js";
import type { Writable } from "node:stream";
import { OciError } from "../errors.js";
import { serializeDocument } from "../image/documents.js";
import { ArchiveWriter } from "../tar/archive-writer.js";
import { indexTarFile, rangeStream } from "../tar/file-index.js";
import { MediaType, type Index } from "../types.js";
import { verified, type BlobSource } from "./blob-source.js";
import { blobPath, planExport, type ExportRoot } from "./export-roots.js";
import { OCI_LAYOUT_FILE } from "./oci-layout.js";
import { readLayoutImages, type ImageSet } from "./read-images.js";

/**
 * Writes images as an oci-archive tar into `out` (ended when done): oci-layout, index.json
 * (with ref name annotations as in writeOciLayout) and every blob, streamed and verified.
 * Deterministic: the same images give the same bytes. Returns the index.json written.
 */
export async function writeOciArchive(out: Writable, roots: ExportRoot[], source: BlobSource): Promise<Index> {
  const plan = await planExport(roots, source);
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: plan.entries };
  const w = new ArchiveWriter(out);
  try {
    await w.file("oci-layout", OCI_LAYOUT_FILE);
    await w.file("index.json", serializeDocument(index).bytes);
    await w.dir("blobs");
    await w.dir("blobs/sha256");
    for (const [digest, bytes] of plan.documents) await w.file(blobPath(digest), bytes);
    for (const b of plan.blobs) {
      await w.stream(blobPath(b.digest), b.size, verified(await source.open(b.digest), b.digest, b.size, `${b.what} ${b.digest}`));
    }
    await w.finish();
  } catch (err) {
    destroyWithError(out, err);
    throw err;
  }
  return index;
}

/** Reads an oci-archive file in place (no unpacking): its images and a verified BlobSource. */
export async function readOciArchive(file: string): Promise<ImageSet> {
  const where = `oci-archive ${file}`;
  const members = await indexTarFile(file).catch((err: unknown) => {
    if ((err as { code?: string }).code === "ENOENT") throw new OciError("NOT_FOUND", `${where} does not exist.`, { cause: err });
    throw err;
  });
  const member = (p: string) => {
    const m = members.get(p);
    if (!m) throw new OciError("NOT_FOUND", `${where} has no ${p}.`);
    return m;
  };
  return readLayoutImages({
    where,
    size: async (p) => member(p).size,
    open: async (p) => {
      return rangeStream(file, member(p));
    },
  });
}
