// Parsing and serialising the JSON documents of an image: config, manifest, index (and their
// Docker v2 schema 2 twins). Parsers validate what tbuild relies on and keep every other
// field, so re-serialising a parsed document loses nothing a registry or runtime might need.
import { isDigest, sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest } from "../types.js";

/** Manifests and indexes larger than this are refused (as containerd and Docker do). */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

/** A serialised document: its exact bytes and their digest. */
export interface SerializedDocument {
  bytes: Buffer;
  digest: Digest;
  size: number;
}

/** Whether a media type names a single-platform manifest (OCI or Docker). */
export function isManifestMediaType(t: string | undefined): boolean {
  return t === MediaType.ociManifest || t === MediaType.dockerManifest;
}

/** Whether a media type names a multi-platform index (OCI index or Docker manifest list). */
export function isIndexMediaType(t: string | undefined): boolean {
  return t === MediaType.ociIndex || t === MediaType.dockerManifestList;
}

function fail(what: string, why: string): never {
  throw new OciError("INVALID_FORMAT", `${what} is not valid: ${why}.`);
}

function parseJson(bytes: Uint8Array | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    fail(what, `not JSON (${(err as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(what, "not a JSON object");
  return v as Record<string, unknown>;
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  if (typeof d !== "object" || d === null) fail(what, "a descriptor is not an object");
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== "string" || o.mediaType === "") fail(what, "a descriptor has no mediaType");
  if (!isDigest(o.digest)) fail(what, `descriptor digest ${JSON.stringify(o.digest)} is not a sha256 digest`);
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0) fail(what, `descriptor ${o.digest} has an invalid size`);
  return o as unknown as Descriptor;
}

function checkSchema(o: Record<string, unknown>, what: string): void {
  if (o.schemaVersion === 1) {
    throw new OciError("UNSUPPORTED", `${what} is a Docker schema 1 manifest, which is deprecated and not supported; re-push the image with a current client.`);
  }
  if (o.schemaVersion !== 2) fail(what, `schemaVersion is ${JSON.stringify(o.schemaVersion)}, expected 2`);
}

/** Parses and validates an image config (architecture, os, rootfs.diff_ids). */
export function parseImageConfig(bytes: Uint8Array | string, what = "image config"): ImageConfig {
  const o = parseJson(bytes, what);
  if (typeof o.architecture !== "string") fail(what, "architecture is missing");
  if (typeof o.os !== "string") fail(what, "os is missing");
  const rootfs = o.rootfs as Record<string, unknown> | undefined;
  if (!rootfs || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids)) fail(what, "rootfs.diff_ids is missing");
  for (const d of rootfs.diff_ids as unknown[]) if (!isDigest(d)) fail(what, `diff_id ${JSON.stringify(d)} is not a sha256 digest`);
  if (o.history !== undefined && !Array.isArray(o.history)) fail(what, "history is not a list");
  return o as unknown as ImageConfig;
}

/** Parses and validates a manifest (OCI image manifest or Docker v2 schema 2). */
export function parseManifest(bytes: Uint8Array | string, what = "manifest"): Manifest {
  if (typeof bytes !== "string" && bytes.length > MAX_MANIFEST_SIZE) {
    throw new OciError("TOO_LARGE", `${what} is ${bytes.length} bytes, more than the 4 MB limit for manifests.`);
  }
  const o = parseJson(bytes, what);
  checkSchema(o, what);
  if (o.mediaType !== undefined && !isManifestMediaType(o.mediaType as string)) {
    fail(what, `its mediaType is ${JSON.stringify(o.mediaType)}, not an image manifest`);
  }
  if (o.manifests !== undefined) fail(what, "it is an index, not a manifest");
  checkDescriptor(o.config, what);
  if (!Array.isArray(o.layers)) fail(what, "layers is missing");
  for (const l of o.layers) checkDescriptor(l, what);
  return o as unknown as Manifest;
}

/** Parses and validates an index (OCI image index or Docker manifest list). */
export function parseIndex(bytes: Uint8Array | string, what = "index"): Index {
  if (typeof bytes !== "string" && bytes.length > MAX_MANIFEST_SIZE) {
    throw new OciError("TOO_LARGE", `${what} is ${bytes.length} bytes, more than the 4 MB limit for manifests.`);
  }
  const o = parseJson(bytes, what);
  checkSchema(o, what);
  if (o.mediaType !== undefined && !isIndexMediaType(o.mediaType as string)) {
    fail(what, `its mediaType is ${JSON.stringify(o.mediaType)}, not an index`);
  }
  if (!Array.isArray(o.manifests)) fail(what, "manifests is missing");
  for (const m of o.manifests) checkDescriptor(m, what);
  return o as unknown as Index;
}

/** A document that is either kind, as a tag in a registry or layout may point at either. */
export type ImageDocument = { kind: "manifest"; manifest: Manifest } | { kind: "index"; index: Index };

/**
 * Parses a manifest or index, telling them apart by `mediaType` (the document's own field,
 * else the HTTP Content-Type / descriptor media type given) and, failing both, by shape.
 */
export function parseImageDocument(bytes: Uint8Array | string, mediaType?: string, what = "manifest"): ImageDocument {
  const o = parseJson(bytes, what);
  const t = (typeof o.mediaType === "string" ? o.mediaType : undefined) ?? mediaType;
  const isIndex = t !== undefined && (isIndexMediaType(t) || isManifestMediaType(t)) ? isIndexMediaType(t) : Array.isArray(o.manifests);
  return isIndex ? { kind: "index", index: parseIndex(bytes, what) } : { kind: "manifest", manifest: parseManifest(bytes, what) };
}

/** The media type of a document: its own field, else inferred from its shape (OCI flavour). */
export function documentMediaType(doc: Manifest | Index): string {
  if (doc.mediaType) return doc.mediaType;
  return "manifests" in doc ? MediaType.ociIndex : MediaType.ociManifest;
}

/**
 * Serialises a document (config, manifest, index) as compact JSON in the key order of the
 * object given — tbuild builds its documents with a fixed key order, so equal inputs give
 * equal bytes and digests.
 */
export function serializeDocument(doc: object): SerializedDocument {
  const bytes = Buffer.from(JSON.stringify(doc), "utf8");
  return { bytes, digest: sha256(bytes), size: bytes.length };
}

/** A descriptor for serialised bytes. */
export function describe(mediaType: string, doc: SerializedDocument, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: doc.digest, size: doc.size, ...extra };
}
