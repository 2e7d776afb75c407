// What the layout/archive writers take: images (manifests) and indexes with their names,
// and the walk that finds every blob they reach.
import { digestHex, sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import { isIndexMediaType, parseImageDocument, serializeDocument } from "../image/documents.js";
import { parseReference } from "../registry/reference.js";
import { MediaType, type Descriptor, type Digest, type Index, type Manifest, type Platform } from "../types.js";
import { readBlob, type BlobSource } from "./blob-source.js";

/** A single-platform image to export. */
export interface ExportImage {
  manifest: Manifest;
  /** The manifest's exact bytes (keeps its digest); serialised from `manifest` if absent. */
  manifestBytes?: Uint8Array;
  /** Names to record, e.g. "docker.io/library/app:1.0" or "app:1.0". */
  names?: string[];
  /** Platform to note on the index.json entry. */
  platform?: Platform;
}

/** A multi-platform index to export; its child manifests are read from the BlobSource. */
export interface ExportIndex {
  index: Index;
  indexBytes?: Uint8Array;
  names?: string[];
}

/** An image or index given to the layout and archive writers. */
export type ExportRoot = ExportImage | ExportIndex;

/** Annotation holding the tag of an index.json entry (OCI image spec). */
export const REF_NAME = "org.opencontainers.image.ref.name";
/** Annotation holding the full image name (containerd, BuildKit). */
export const CONTAINERD_NAME = "io.containerd.image.name";

/** Everything an export writes. */
export interface ExportPlan {
  /** Documents written from memory (root manifests/indexes), by digest. */
  documents: Map<Digest, Buffer>;
  /** Blobs streamed from the BlobSource, in first-reached order, without duplicates. */
  blobs: Array<{ digest: Digest; size: number; what: string }>;
  /** index.json entries. */
  entries: Descriptor[];
}

/** The OCI ref name (the tag) and full name for a user-given name, as containerd records them. */
export function refAnnotations(name: string): Record<string, string> {
  try {
    const ref = parseReference(name);
    return { [CONTAINERD_NAME]: ref.toString(), [REF_NAME]: ref.tag ?? ref.digest ?? "latest" };
  } catch {
    return { [REF_NAME]: name };
  }
}

/** Walks the roots and lists every document and blob to write, checking sizes against the source. */
export async function planExport(roots: ExportRoot[], source: BlobSource): Promise<ExportPlan> {
  const plan: ExportPlan = { documents: new Map(), blobs: [], entries: [] };
  const seen = new Set<Digest>();
  const addBlob = async (d: Descriptor, what: string): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const size = await source.size(d.digest).catch((err: unknown) => {
      throw new OciError("NOT_FOUND", `cannot export: ${what} ${d.digest} is not in the store (${(err as Error).message}).`, { cause: err });
    });
    if (size !== d.size) throw new OciError("SIZE_MISMATCH", `cannot export: ${what} ${d.digest} is ${size} bytes in the store but ${d.size} in its descriptor.`);
    plan.blobs.push({ digest: d.digest, size, what });
  };
  const walkManifest = async (m: Manifest): Promise<void> => {
    await addBlob(m.config, "image config");
    for (const l of m.layers) await addBlob(l, "layer");
  };
  const walkIndex = async (ix: Index): Promise<void> => {
    for (const child of ix.manifests) {
      await addBlob(child, "manifest");
      const bytes = await readBlob(source, child.digest, `manifest ${child.digest}`);
      const doc = parseImageDocument(bytes, child.mediaType, `manifest ${child.digest}`);
      if (doc.kind === "index") await walkIndex(doc.index);
      else await walkManifest(doc.manifest);
    }
  };
  for (const root of roots) {
    const isIndex = "index" in root;
    const doc = isIndex ? root.index : root.manifest;
    const given = isIndex ? root.indexBytes : root.manifestBytes;
    const bytes = given ? Buffer.from(given) : serializeDocument(doc).bytes;
    const digest = sha256(bytes);
    const mediaType = doc.mediaType ?? (isIndex ? MediaType.ociIndex : MediaType.ociManifest);
    if (!seen.has(digest)) {
      seen.add(digest);
      plan.documents.set(digest, bytes);
      if (isIndex) await walkIndex(root.index);
      else await walkManifest(root.manifest);
    }
    const base: Descriptor = { mediaType, digest, size: bytes.length };
    if (!isIndex && root.platform) base.platform = root.platform;
    const names = root.names ?? [];
    if (names.length === 0) plan.entries.push(base);
    for (const n of names) plan.entries.push({ ...base, annotations: refAnnotations(n) });
  }
  return plan;
}

/** The blob path inside a layout: blobs/sha256/<hex>. */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** True if an index.json entry points at an index rather than a manifest. */
export function isIndexEntry(d: Descriptor): boolean {
  return isIndexMediaType(d.mediaType);
}
