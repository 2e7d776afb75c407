// Reading an OCI image layout from any file access (a directory, or members of a tar): the
// index, each image's manifest(s) and config, and a verified BlobSource for everything else.
import type { Readable } from "node:stream";
import { OciError } from "../errors.js";
import { parseImageConfig, parseImageDocument, parseIndex } from "../image/documents.js";
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest } from "../types.js";
import { readBlob, verified, type BlobSource } from "./blob-source.js";
import { blobPath, CONTAINERD_NAME, REF_NAME } from "./export-roots.js";

/** Read access to the files of a layout, wherever they are. */
export interface LayoutFiles {
  /** Human-readable location for messages ("OCI layout /tmp/x", "oci-archive img.tar"). */
  where: string;
  size(path: string): Promise<number>;
  open(path: string): Promise<Readable>;
}

/** A single-platform image as read: manifest and config, with their exact bytes. */
export interface ResolvedManifest {
  descriptor: Descriptor;
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
}

/** One index.json entry (or docker-archive image) and the image(s) it stands for. */
export interface LoadedImage {
  /** Full name (containerd annotation, docker-archive RepoTags) if recorded. */
  name?: string;
  /** The OCI ref name annotation (usually the tag). */
  refName?: string;
  /** The entry's descriptor (a manifest or an index). */
  descriptor: Descriptor;
  /** For an index entry: the index and its bytes. */
  index?: Index;
  indexBytes?: Buffer;
  /** The image manifests it resolves to (one, or one per platform; attestations left out). */
  manifests: ResolvedManifest[];
}

/** The result of reading a layout or archive. */
export interface ImageSet {
  images: LoadedImage[];
  /** Every blob of the layout/archive; streams are verified against their digest and size. */
  blobs: BlobSource;
}

function isAttestation(d: Descriptor): boolean {
  return d.platform?.os === "unknown" || d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest";
}

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.ociConfig, MediaType.dockerConfig]);

/** A BlobSource over blobs/sha256/<hex> in `files`, verifying every stream. */
export function layoutBlobSource(files: LayoutFiles): BlobSource {
  const missing = (digest: Digest, err: unknown): OciError =>
    new OciError("NOT_FOUND", `blob ${digest} is missing from ${files.where}.`, { cause: err });
  return {
    async size(digest) {
      try {
        return await files.size(blobPath(digest));
      } catch (err) {
        throw missing(digest, err);
      }
    },
    async open(digest) {
      let size: number;
      try {
        size = await files.size(blobPath(digest));
      } catch (err) {
        throw missing(digest, err);
      }
      return verified(await files.open(blobPath(digest)), digest, size, `blob ${digest} in ${files.where}`);
    },
  };
}

/** Reads a manifest descriptor's manifest and config (refusing size/digest mismatches). */
export async function resolveManifest(blobs: BlobSource, d: Descriptor, where: string): Promise<ResolvedManifest> {
  const manifestBytes = await readBlob(blobs, d.digest, `manifest ${d.digest} in ${where}`);
  if (manifestBytes.length !== d.size) throw new OciError("SIZE_MISMATCH", `manifest ${d.digest} in ${where} is ${manifestBytes.length} bytes, but its descriptor says ${d.size}.`);
  const doc = parseImageDocument(manifestBytes, d.mediaType, `manifest ${d.digest} in ${where}`);
  if (doc.kind !== "manifest") throw new OciError("INVALID_FORMAT", `${d.digest} in ${where} is an index where a manifest was expected.`);
  const m = doc.manifest;
  const configBytes = await readBlob(blobs, m.config.digest, `image config ${m.config.digest} in ${where}`);
  const config = parseImageConfig(configBytes, `image config ${m.config.digest} in ${where}`);
  if (config.rootfs.diff_ids.length !== m.layers.length) {
    throw new OciError("INVALID_FORMAT", `image ${d.digest} in ${where} has ${m.layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diff_ids.`);
  }
  return { descriptor: d, manifest: m, manifestBytes, config, configBytes };
}

/** Resolves an index.json entry to its image manifests (nested indexes flattened). */
async function resolveEntry(blobs: BlobSource, d: Descriptor, where: string): Promise<LoadedImage> {
  const image: LoadedImage = { descriptor: d, manifests: [] };
  const name = d.annotations?.[CONTAINERD_NAME];
  const refName = d.annotations?.[REF_NAME];
  if (name) image.name = name;
  if (refName) image.refName = refName;
  const walk = async (desc: Descriptor, depth: number): Promise<void> => {
    if (depth > 4) throw new OciError("INVALID_FORMAT", `indexes in ${where} are nested too deeply.`);
    const bytes = await readBlob(blobs, desc.digest, `manifest ${desc.digest} in ${where}`);
    const doc = parseImageDocument(bytes, desc.mediaType, `manifest ${desc.digest} in ${where}`);
    if (doc.kind === "index") {
      if (depth === 0) {
        image.index = doc.index;
        image.indexBytes = bytes;
      }
      for (const child of doc.index.manifests) if (!isAttestation(child)) await walk(child, depth + 1);
      return;
    }
    if (!IMAGE_CONFIG_TYPES.has(doc.manifest.config.mediaType)) return; // an artifact, not an image
    image.manifests.push(await resolveManifest(blobs, desc, where));
  };
  await walk(d, 0);
  return image;
}

/** Reads oci-layout, index.json and every image they name. */
export async function readLayoutImages(files: LayoutFiles): Promise<ImageSet> {
  const layoutBytes = await readSmall(files, "oci-layout");
  let version: unknown;
  try {
    version = (JSON.parse(layoutBytes.toString("utf8")) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (typeof version !== "string" || !version.startsWith("1.")) {
    throw new OciError("INVALID_FORMAT", `${files.where} is not an OCI image layout: oci-layout has imageLayoutVersion ${JSON.stringify(version)}, expected 1.0.0.`);
  }
  const index = parseIndex(await readSmall(files, "index.json"), `index.json of ${files.where}`);
  const blobs = layoutBlobSource(files);
  const images: LoadedImage[] = [];
  for (const d of index.manifests) images.push(await resolveEntry(blobs, d, files.where));
  return { images, blobs };
}

async function readSmall(files: LayoutFiles, path: string): Promise<Buffer> {
  let size: number;
  try {
    size = await files.size(path);
  } catch (err) {
    throw new OciError("INVALID_FORMAT", `${files.where} is not an OCI image layout: it has no ${path}.`, { cause: err });
  }
  if (size > 4 * 1024 * 1024) throw new OciError("TOO_LARGE", `${path} in ${files.where} is larger than 4 MB.`);
  const parts: Buffer[] = [];
  for await (const c of await files.open(path)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Finds an image by ref name or full name; with no `name`, the only image. */
export function findImage(set: ImageSet, name: string | undefined, where: string): LoadedImage {
  if (name === undefined) {
    if (set.images.length === 1) return set.images[0]!;
    const names = set.images.map((i) => i.refName ?? i.name ?? i.descriptor.digest);
    throw new OciError("NOT_FOUND", `${where} holds ${set.images.length} images (${names.join(", ")}); say which one.`);
  }
  const hit = set.images.find((i) => i.refName === name || i.name === name);
  if (hit) return hit;
  throw new OciError("NOT_FOUND", `${where} has no image named ${JSON.stringify(name)}.`);
}
