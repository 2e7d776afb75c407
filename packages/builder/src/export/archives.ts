// Exports of a finished image as files: oci-archive, docker-archive, OCI layout dir;
// and the push to a registry. Each writes to a temp name and renames when complete.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { MediaType, parseReference, serializeDocument, writeDockerArchive, writeOciArchive, writeOciLayout, type Compression, type Descriptor, type Digest, type Manifest } from "@tbuild/oci";
import type { OutputResult, OutputSpec } from "../api-types.js";
import type { CommittedImage } from "../image-state/commit-image.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";
import type { BuildSession } from "../solve/session.js";
import { layerDescriptors, StoreBlobSource } from "./store-blobs.js";
import { pushImage } from "../image-transfer/push.js";
import type { Store } from "@tbuild/cache";

export interface ExportableImage {
  manifest: Manifest;
  manifestBytes: Buffer;
  /** Digest of `manifestBytes`: the manifest digest this export holds. */
  digest: Digest;
  source: StoreBlobSource;
}

/** The image's manifest with its layers in `compression`, and a blob source that serves it all. */
export async function exportableImage(
  store: Store,
  state: ImageState,
  image: CommittedImage,
  compression: Compression,
  ociTypes = true,
  remote?: { elsewhere: (blob: Descriptor) => boolean; fetchMissing: (digest: Digest) => Promise<boolean> },
  /** A source to add to: the images of one index share it. */
  source = new StoreBlobSource(store, remote?.fetchMissing),
): Promise<ExportableImage> {
  const { layers, sources } = await layerDescriptors(store, state, compression, ociTypes, remote?.elsewhere);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: ociTypes ? MediaType.ociManifest : MediaType.dockerManifest,
    config: { mediaType: ociTypes ? MediaType.ociConfig : MediaType.dockerConfig, digest: image.configDigest, size: image.manifest.config.size },
    layers,
  };
  const doc = serializeDocument(manifest);
  source.addLayers(sources);
  source.addDocument(doc.digest, Buffer.from(doc.bytes));
  return { manifest, manifestBytes: Buffer.from(doc.bytes), digest: doc.digest, source };
}

export async function writeFileAtomically(dest: string, write: (out: NodeJS.WritableStream & import("node:stream").Writable) => Promise<unknown>): Promise<void> {
  await fsp.mkdir(path.dirname(path.resolve(dest)), { recursive: true });
  const part = `${dest}.tbuild-${process.pid}.partial`;
  try {
    // Opened first, so that a destination we may not write to rejects here instead of
    // emitting an 'error' on a stream nobody listens to yet (an uncaught crash).
    const fh = await fsp.open(part, "w");
    await write(fh.createWriteStream());
    await fsp.rename(part, dest);
  } catch (e) {
    await fsp.rm(part, { force: true });
    throw withDestination(e, dest);
  }
}

export async function writeArchiveOutput(
  session: BuildSession,
  state: ImageState,
  image: CommittedImage,
  out: Extract<OutputSpec, { type: "oci" | "docker" | "oci-layout" }>,
): Promise<OutputResult> {
  const names = (session.opts.tags ?? []).map(normalizeImageName);
  const platform = { os: state.config.os, architecture: state.config.architecture, ...(state.config.variant ? { variant: state.config.variant } : {}) };
  if (out.type === "docker") {
    const img = await exportableImage(session.store, state, image, "none", false);
    await writeFileAtomically(out.dest, (w) => writeDockerArchive(w, [{ manifest: img.manifest, manifestBytes: img.manifestBytes, names, platform }], img.source));
    return { type: out.type, dest: out.dest, manifestDigest: img.digest, mediaType: img.manifest.mediaType };
  }
  const compression = out.type === "oci" ? (out.compression ?? "gzip") : "gzip";
  const img = await exportableImage(session.store, state, image, compression);
  const root = { manifest: img.manifest, manifestBytes: img.manifestBytes, names, platform };
  if (out.type === "oci-layout") await writeOciLayout(out.dest, [root], img.source);
  else await writeFileAtomically(out.dest, (w) => writeOciArchive(w, [root], img.source));
  return { type: out.type, dest: out.dest, manifestDigest: img.digest, mediaType: img.manifest.mediaType };
}

export async function pushOutput(
  session: BuildSession,
  state: ImageState,
  image: CommittedImage,
  out: Extract<OutputSpec, { type: "registry" }>,
): Promise<OutputResult> {
  // An imported cache layer on the registry pushed to is mounted from the cache's
  // repository, never fetched; any other imported layer is fetched first. The store's
  // records say where else the registry holds a blob (the base pulled from it …).
  const registry = parseReference(out.name).registry;
  const mountFrom = (blob: Descriptor) => session.lazy.mountSource(blob, "gzip", registry);
  await Promise.all(state.layers.map((l) => (l.blob && !mountFrom(l.blob) ? session.lazy.ensureBlob(l.blob) : undefined)));
  const img = await exportableImage(session.store, state, image, "gzip", true, {
    elsewhere: (blob) => mountFrom(blob) !== undefined,
    fetchMissing: (digest) => session.lazy.fetchByDigest(digest),
  });
  const digest = await pushImage(img, out.name, {
    insecure: out.insecure, insecureRegistries: session.opts.insecureRegistries, signal: session.signal, store: session.store, mountFrom,
  });
  return { type: out.type, ref: normalizeImageName(out.name), manifestDigest: digest, mediaType: img.manifest.mediaType };
}

/** Errors of the destination file (a full disk …) say which file it was. */
export function withDestination(e: unknown, dest: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "EACCES" || code === "EROFS") {
    return Object.assign(new Error(`writing ${dest}: ${(e as Error).message.replace(/^[A-Z]+: /, "")}`, { cause: e }), { code });
  }
  return e;
}
