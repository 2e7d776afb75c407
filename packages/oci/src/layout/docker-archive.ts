// docker-archive: the `docker save` / `docker load` tarball: manifest.json, repositories,
// the config as <hex>.json and each layer as an uncompressed <diffID hex>/layer.tar.
import { destroyWithError } from "../util/destroy.js";
import { Readable, type Writable } from "node:stream";
import { digestHex, DigestTap, isDigest, sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import { parseImageConfig, serializeDocument } from "../image/documents.js";
import { compressionOfMediaType, createDecompressor, detectCompression, layerMediaType } from "../layer/compression.js";
import { parseReference } from "../registry/reference.js";
import { ArchiveWriter } from "../tar/archive-writer.js";
import { indexTarFile, rangeStream, type TarMember } from "../tar/file-index.js";
import { MediaType, type Descriptor, type Digest, type Manifest } from "../types.js";
import { isMissingBlob, memoryBlobSource, readBlob, verified, type BlobSource } from "./blob-source.js";
import type { ExportImage } from "./export-roots.js";
import type { ImageSet, LoadedImage } from "./read-images.js";

/** One image entry of manifest.json. */
interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** "repo:tag" as `docker save` writes it (familiar name), or undefined for digest-only names. */
function repoTag(name: string): { repo: string; tag: string } | undefined {
  const ref = parseReference(name);
  if (ref.tag === undefined) return undefined;
  const familiar = ref.with({ tag: ref.tag }).familiar;
  return { repo: familiar.slice(0, familiar.lastIndexOf(":")), tag: ref.tag };
}

/** Streams a layer's uncompressed tar: the diffID blob if the source has it, else the blob decompressed. */
async function layerTar(source: BlobSource, layer: Descriptor, diffID: Digest): Promise<{ size: number; open: () => Promise<Readable> }> {
  try {
    const size = await source.size(diffID);
    return { size, open: async () => verified(await source.open(diffID), diffID, size, `layer ${diffID}`) };
  } catch (err) {
    if (!isMissingBlob(err)) throw err;
  }
  const compression = compressionOfMediaType(layer.mediaType) ?? "gzip";
  const decompressed = async (): Promise<Readable> => {
    const blob = verified(await source.open(layer.digest), layer.digest, layer.size, `layer ${layer.digest}`);
    const d = createDecompressor(compression);
    blob.on("error", (e) => d.destroy(e));
    return blob.pipe(d);
  };
  // A tar header needs the length first: one pass to measure (and check the diffID), one to copy.
  const tap = new DigestTap();
  for await (const _ of (await decompressed()).pipe(tap)) { /* counting */ }
  if (tap.digest() !== diffID) {
    throw new OciError("DIGEST_MISMATCH", `layer ${layer.digest} decompresses to ${tap.digest()}, not to its diff_id ${diffID}.`);
  }
  const size = tap.size;
  return { size, open: async () => verified(await decompressed(), diffID, size, `layer ${diffID}`) };
}

/**
 * Writes single-platform images as a docker-archive into `out` (ended when done), loadable
 * by `docker load` and readable by `skopeo … docker-archive:`. Layers are written
 * uncompressed (the diffID blob when `source` has it, otherwise the compressed blob is
 * decompressed on the fly, twice, since tar needs each length up front). Shared layers and
 * configs are written once.
 */
export async function writeDockerArchive(out: Writable, images: ExportImage[], source: BlobSource): Promise<void> {
  const w = new ArchiveWriter(out);
  const written = new Set<string>();
  const entries: DockerManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  try {
    for (const img of images) {
      if ("manifests" in (img.manifest as object)) {
        throw new OciError("UNSUPPORTED", "a docker-archive holds single-platform images; choose a platform from the index first.");
      }
      const configBytes = await readBlob(source, img.manifest.config.digest, `image config ${img.manifest.config.digest}`);
      const config = parseImageConfig(configBytes);
      if (config.rootfs.diff_ids.length !== img.manifest.layers.length) {
        throw new OciError("INVALID_FORMAT", `image config ${img.manifest.config.digest} lists ${config.rootfs.diff_ids.length} diff_ids for ${img.manifest.layers.length} layers.`);
      }
      const configName = `${digestHex(img.manifest.config.digest)}.json`;
      if (!written.has(configName)) {
        await w.file(configName, configBytes);
        written.add(configName);
      }
      const layerNames: string[] = [];
      for (let i = 0; i < img.manifest.layers.length; i++) {
        const diffID = config.rootfs.diff_ids[i]!;
        const name = `${digestHex(diffID)}/layer.tar`;
        layerNames.push(name);
        if (written.has(name)) continue;
        const tar = await layerTar(source, img.manifest.layers[i]!, diffID);
        await w.dir(digestHex(diffID));
        await w.stream(name, tar.size, await tar.open());
        written.add(name);
      }
      const tags: string[] = [];
      for (const n of img.names ?? []) {
        const rt = repoTag(n);
        if (!rt) continue;
        tags.push(`${rt.repo}:${rt.tag}`);
        const top = layerNames.length > 0 ? layerNames[layerNames.length - 1]!.split("/")[0]! : digestHex(img.manifest.config.digest);
        (repositories[rt.repo] ??= {})[rt.tag] = top;
      }
      entries.push({ Config: configName, RepoTags: tags.length > 0 ? tags : null, Layers: layerNames });
    }
    await w.file("manifest.json", Buffer.from(JSON.stringify(entries)));
    if (Object.keys(repositories).length > 0) await w.file("repositories", Buffer.from(JSON.stringify(repositories)));
    await w.finish();
  } catch (err) {
    destroyWithError(out, err);
    throw err;
  }
}

/**
 * Reads a docker-archive in place. Each manifest.json entry becomes an image with a Docker
 * v2 schema 2 manifest made up for it (layer digests are computed by hashing each layer
 * member once, unless its path already names the digest as Docker ≥ 25 writes them).
 */
export async function readDockerArchive(file: string): Promise<ImageSet> {
  const where = `docker-archive ${file}`;
  const members = await indexTarFile(file).catch((err: unknown) => {
    if ((err as { code?: string }).code === "ENOENT") throw new OciError("NOT_FOUND", `${where} does not exist.`, { cause: err });
    throw err;
  });
  const member = (p: string): TarMember => {
    const m = members.get(p.replace(/^(\.\/)+/, ""));
    if (!m) throw new OciError("INVALID_FORMAT", `${where} has no ${p}, which its manifest.json refers to.`);
    return m;
  };
  const readMember = async (p: string): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of rangeStream(file, member(p))) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };
  let entries: DockerManifestEntry[];
  try {
    entries = JSON.parse((await readMember("manifest.json")).toString("utf8")) as DockerManifestEntry[];
    if (!Array.isArray(entries)) throw new Error("not a list");
  } catch (err) {
    if (err instanceof OciError) throw err;
    throw new OciError("INVALID_FORMAT", `manifest.json in ${where} is not valid: ${(err as Error).message}.`);
  }
  const byDigest = new Map<Digest, TarMember>();
  const docs = new Map<Digest, Uint8Array>();
  const images: LoadedImage[] = [];
  for (const e of entries) {
    const configBytes = await readMember(e.Config);
    const config = parseImageConfig(configBytes, `image config ${e.Config} in ${where}`);
    const configDigest = sha256(configBytes);
    docs.set(configDigest, configBytes);
    const layers: Descriptor[] = [];
    for (const path of e.Layers ?? []) {
      const m = member(path);
      const named = /blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
      let digest: Digest;
      if (named && isDigest(`sha256:${named[1]}`)) digest = `sha256:${named[1]}` as Digest;
      else {
        const tap = new DigestTap();
        for await (const _ of rangeStream(file, m).pipe(tap)) { /* hashing */ }
        digest = tap.digest();
      }
      let head = Buffer.alloc(0);
      if (m.size > 0) for await (const c of rangeStream(file, { ...m, size: Math.min(m.size, 4) })) head = Buffer.concat([head, c as Buffer]);
      byDigest.set(digest, m);
      layers.push({ mediaType: layerMediaType(m.size > 0 ? detectCompression(head) : "none", "docker"), digest, size: m.size });
    }
    if (layers.length !== config.rootfs.diff_ids.length) {
      throw new OciError("INVALID_FORMAT", `image ${e.Config} in ${where} has ${layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diff_ids.`);
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const ser = serializeDocument(manifest);
    docs.set(ser.digest, ser.bytes);
    const descriptor: Descriptor = { mediaType: MediaType.dockerManifest, digest: ser.digest, size: ser.size };
    const resolved = { descriptor, manifest, manifestBytes: ser.bytes, config, configBytes };
    const tags = e.RepoTags ?? [];
    if (tags.length === 0) images.push({ descriptor, manifests: [resolved] });
    for (const t of tags) images.push({ name: t, refName: t, descriptor, manifests: [resolved] });
  }
  const layerSource: BlobSource = {
    async size(digest) {
      const m = byDigest.get(digest);
      if (!m) throw new OciError("NOT_FOUND", `blob ${digest} is not in ${where}.`);
      return m.size;
    },
    async open(digest) {
      const m = byDigest.get(digest);
      if (!m) throw new OciError("NOT_FOUND", `blob ${digest} is not in ${where}.`);
      return verified(rangeStream(file, m), digest, m.size, `layer ${digest} in ${where}`);
    },
  };
  return { images, blobs: memoryBlobSource(docs, layerSource) };
}
