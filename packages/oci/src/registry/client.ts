// The registry client: resolve, pull and push images over the OCI distribution API.
import { Writable } from "node:stream";
import { sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import { documentMediaType, MAX_MANIFEST_SIZE, parseImageConfig, parseImageDocument, serializeDocument } from "../image/documents.js";
import { hostPlatform, selectManifest } from "../image/platform.js";
import { readBlob, type BlobSource } from "../layout/blob-source.js";
import { MediaType, type Descriptor, type Digest, type ImageConfig, type Index, type Manifest, type Platform } from "../types.js";
import { mapLimit } from "../util/map-limit.js";
import { downloadBlob, pushBlob, statusError, type BlobPushOutcome } from "./blobs.js";
import { parseReference, type ImageReference } from "./reference.js";
import { release, Transport, type TransportOptions } from "./transport.js";

const ACCEPT = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].join(", ");

/** Options of a RegistryClient. */
export interface RegistryClientOptions extends TransportOptions {
  /** Blobs transferred at once by pull and push. Default 3. */
  concurrency?: number;
  /** Upload blobs larger than this in PATCH chunks of this size (default: monolithic). */
  chunkSize?: number;
}

/** A manifest or index as fetched, with its exact bytes. */
export interface FetchedDocument {
  descriptor: Descriptor;
  bytes: Buffer;
  document: { kind: "manifest"; manifest: Manifest } | { kind: "index"; index: Index };
}

/** A resolved single-platform image. */
export interface ResolvedImage {
  reference: ImageReference;
  /** The image manifest's descriptor (its digest identifies the image). */
  descriptor: Descriptor;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** The index the tag pointed at, when it was multi-platform. */
  index?: { descriptor: Descriptor; index: Index; bytes: Buffer };
}

/** A pulled image: the resolved manifest plus its config. */
export interface PulledImage extends ResolvedImage {
  config: ImageConfig;
  configBytes: Buffer;
}

/** Options of RegistryClient.pull. */
export interface PullOptions {
  /** Platform to pick from a multi-platform index (default: the host's). */
  platform?: Platform;
  /**
   * Where a layer goes: return a Writable (ended when the layer is complete and verified,
   * destroyed on failure) or null to skip it (e.g. the store already has it).
   */
  layerSink(layer: Descriptor, index: number): Promise<Writable | null>;
}

/** What push did. */
export interface PushResult {
  descriptor: Descriptor;
  blobs: Record<BlobPushOutcome, number>;
  /** Every manifest pushed (the image's, or each child of the index). */
  manifests: Manifest[];
}

/** What to push: an image manifest, or an index whose child manifests are in the BlobSource. */
export type PushContent =
  | { manifest: Manifest; manifestBytes?: Uint8Array }
  | { index: Index; indexBytes?: Uint8Array };

/** Options of RegistryClient.push. */
export interface PushOptions {
  /** A repository on the same registry that may already hold a blob (cross-repository mount). */
  mountFrom?: (blob: Descriptor) => string | undefined;
  /**
   * Whether the repository may hold a blob already (default: always). False skips the HEAD
   * and uploads at once, as Docker does for a layer it has no pull or push record of.
   */
  mayExist?: (blob: Descriptor) => boolean;
}

const asRef = (r: ImageReference | string): ImageReference => (typeof r === "string" ? parseReference(r) : r);

/**
 * A client for registries speaking the OCI distribution API (Docker Hub, GHCR, Harbor,
 * distribution/registry …). One client keeps connections, auth challenges and tokens per
 * registry; it is safe to use concurrently. Errors are OciErrors with a code (NOT_FOUND,
 * UNAUTHORIZED, DENIED, DIGEST_MISMATCH, TIMEOUT, TOO_LARGE, REGISTRY …).
 */
export class RegistryClient {
  readonly transport: Transport;
  private readonly concurrency: number;

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.transport = new Transport(opts);
    this.concurrency = opts.concurrency ?? 3;
  }

  /**
   * Fetches the manifest or index `reference` (a tag or digest; default: the reference's own)
   * names. Refuses documents over 4 MB, and checks the bytes against the digest asked for and
   * against the registry's Docker-Content-Digest header.
   */
  async getDocument(ref: ImageReference | string, reference?: string): Promise<FetchedDocument> {
    const r = asRef(ref);
    const at = reference ?? r.reference;
    const what = `manifest ${r.name}${at.startsWith("sha256:") ? "@" : ":"}${at}`;
    const res = await this.transport.send({
      method: "GET", registry: r.registry, path: `/v2/${r.repository}/manifests/${at}`,
      scopes: [`repository:${r.repository}:pull`], what, headers: { accept: ACCEPT },
    });
    if (res.status !== 200) throw await statusError(res, what);
    const declared = Number(res.headers.get("content-length") ?? "0");
    if (declared > MAX_MANIFEST_SIZE) {
      res.body?.destroy();
      throw new OciError("TOO_LARGE", `${what} is ${declared} bytes, more than the 4 MB limit for manifests.`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const c of res.body ?? []) {
      size += (c as Buffer).length;
      if (size > MAX_MANIFEST_SIZE) {
        res.body?.destroy();
        throw new OciError("TOO_LARGE", `${what} is more than the 4 MB limit for manifests.`);
      }
      parts.push(c as Buffer);
    }
    const bytes = Buffer.concat(parts);
    const digest = sha256(bytes);
    if (at.startsWith("sha256:") && digest !== at) {
      throw new OciError("DIGEST_MISMATCH", `${what}: the registry sent a document whose digest is ${digest}.`);
    }
    const header = res.headers.get("docker-content-digest");
    if (header && header.startsWith("sha256:") && header !== digest) {
      throw new OciError("DIGEST_MISMATCH", `${what}: the registry says its digest is ${header} but the content hashes to ${digest}.`);
    }
    const contentType = res.headers.get("content-type")?.split(";")[0]?.trim();
    const document = parseImageDocument(bytes, contentType, what);
    const mediaType = documentMediaType(document.kind === "index" ? document.index : document.manifest) ?? contentType;
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, document };
  }

  /** Resolves a reference to one image manifest, choosing `platform` (default: host) from an index. */
  async resolve(ref: ImageReference | string, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
    const r = asRef(ref);
    const top = await this.getDocument(r);
    if (top.document.kind === "manifest") {
      return { reference: r, descriptor: top.descriptor, manifest: top.document.manifest, manifestBytes: top.bytes };
    }
    const chosen = selectManifest(top.document.index, platform, `the index of ${r.toString()}`);
    const child = await this.getDocument(r, chosen.digest);
    if (child.document.kind !== "manifest") throw new OciError("UNSUPPORTED", `${r.toString()}: nested indexes are not supported.`);
    if (child.bytes.length !== chosen.size) {
      throw new OciError("SIZE_MISMATCH", `manifest ${chosen.digest} of ${r.name} is ${child.bytes.length} bytes but its index says ${chosen.size}.`);
    }
    return {
      reference: r, descriptor: { ...child.descriptor, ...(chosen.platform ? { platform: chosen.platform } : {}) },
      manifest: child.document.manifest, manifestBytes: child.bytes,
      index: { descriptor: top.descriptor, index: top.document.index, bytes: top.bytes },
    };
  }

  /** Streams one blob into `sink`, verified (see downloadBlob for the sink contract). */
  fetchBlob(ref: ImageReference | string, blob: Descriptor, sink: Writable): Promise<void> {
    const r = asRef(ref);
    return downloadBlob(this.transport, r.registry, r.repository, blob, sink, this.opts.retries ?? 3);
  }

  /** Fetches a small blob (a config) into memory, verified, refusing more than `max` bytes. */
  async fetchSmallBlob(ref: ImageReference | string, blob: Descriptor, max = 32 * 1024 * 1024): Promise<Buffer> {
    if (blob.size > max) throw new OciError("TOO_LARGE", `blob ${blob.digest} is ${blob.size} bytes, more than the ${max}-byte limit.`);
    const parts: Buffer[] = [];
    await this.fetchBlob(ref, blob, new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }));
    return Buffer.concat(parts);
  }

  /**
   * Pulls an image: resolves the reference (choosing the platform from an index), fetches and
   * parses the config, and streams every layer the caller wants into its sink, a few at a
   * time, each verified against its digest. Nothing is buffered but the config.
   */
  async pull(ref: ImageReference | string, opts: PullOptions): Promise<PulledImage> {
    const r = asRef(ref);
    const resolved = await this.resolve(r, opts.platform);
    const configBytes = await this.fetchSmallBlob(r, resolved.manifest.config);
    const config = parseImageConfig(configBytes, `image config of ${r.toString()}`);
    if (config.rootfs.diff_ids.length !== resolved.manifest.layers.length) {
      throw new OciError("INVALID_FORMAT", `${r.toString()}: the manifest has ${resolved.manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids.`);
    }
    await mapLimit(resolved.manifest.layers, this.concurrency, async (layer, i) => {
      const sink = await opts.layerSink(layer, i);
      if (sink) await this.fetchBlob(r, layer, sink);
    });
    return { ...resolved, config, configBytes };
  }

  /**
   * Pushes an image or index to `ref` (its tag, or its digest if it has no tag): blobs first
   * (a cross-repository mount where `mountFrom` names a source, else HEAD to skip existing
   * ones unless `mayExist` says no; a few at a time), then child manifests of an index by digest, then the document itself.
   * Blobs and child manifests are read from `source`.
   */
  async push(ref: ImageReference | string, content: PushContent, source: BlobSource, opts: PushOptions = {}): Promise<PushResult> {
    const r = asRef(ref);
    const counts: Record<BlobPushOutcome, number> = { existing: 0, mounted: 0, uploaded: 0 };
    const manifests: Manifest[] = [];
    const pushBlobs = async (blobs: Descriptor[]): Promise<void> => {
      await mapLimit(blobs, this.concurrency, async (d) => {
        const outcome = await pushBlob(this.transport, r.registry, r.repository, d, source, {
          mountFrom: opts.mountFrom?.(d), mayExist: opts.mayExist?.(d) ?? true, chunkSize: this.opts.chunkSize,
        });
        counts[outcome]++;
      });
    };
    const pushManifest = async (m: Manifest): Promise<void> => {
      manifests.push(m);
      const seen = new Set<Digest>();
      await pushBlobs([m.config, ...m.layers].filter((d) => !seen.has(d.digest) && seen.add(d.digest)));
    };
    let bytes: Buffer;
    let mediaType: string;
    if ("index" in content) {
      for (const child of content.index.manifests) {
        const childBytes = await readBlob(source, child.digest, `manifest ${child.digest}`);
        const doc = parseImageDocument(childBytes, child.mediaType, `manifest ${child.digest}`);
        if (doc.kind !== "manifest") throw new OciError("UNSUPPORTED", "pushing nested indexes is not supported.");
        await pushManifest(doc.manifest);
        await this.putManifest(r, child.digest, childBytes, child.mediaType);
      }
      bytes = content.indexBytes ? Buffer.from(content.indexBytes) : serializeDocument(content.index).bytes;
      mediaType = documentMediaType(content.index);
    } else {
      await pushManifest(content.manifest);
      bytes = content.manifestBytes ? Buffer.from(content.manifestBytes) : serializeDocument(content.manifest).bytes;
      mediaType = documentMediaType(content.manifest);
    }
    const digest = sha256(bytes);
    await this.putManifest(r, r.tag ?? digest, bytes, mediaType);
    return { descriptor: { mediaType, digest, size: bytes.length }, blobs: counts, manifests };
  }

  /**
   * Makes one blob present in `ref`'s repository: a cross-repository mount from `mountFrom`
   * on the same registry, HEAD (already there; unless `mayExist` is false), or an upload streamed from `source`.
   */
  pushBlob(ref: ImageReference | string, blob: Descriptor, source: BlobSource, opts: { mountFrom?: string; mayExist?: boolean } = {}): Promise<BlobPushOutcome> {
    const r = asRef(ref);
    return pushBlob(this.transport, r.registry, r.repository, blob, source, { mountFrom: opts.mountFrom, mayExist: opts.mayExist, chunkSize: this.opts.chunkSize });
  }

  /** PUTs a manifest or index under a tag or its digest; checks the digest the registry reports. */
  async putManifest(ref: ImageReference | string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const r = asRef(ref);
    const what = `pushing manifest ${r.name}:${reference}`;
    if (bytes.length > MAX_MANIFEST_SIZE) throw new OciError("TOO_LARGE", `${what}: the manifest is larger than 4 MB.`);
    const res = await this.transport.send({
      method: "PUT", registry: r.registry, path: `/v2/${r.repository}/manifests/${reference}`,
      scopes: [`repository:${r.repository}:pull,push`], what, body: bytes,
      headers: { "content-type": mediaType, "content-length": String(bytes.length) },
    });
    if (res.status !== 201 && res.status !== 200) throw await statusError(res, what);
    release(res);
    const digest = sha256(bytes);
    const reported = res.headers.get("docker-content-digest");
    if (reported && reported.startsWith("sha256:") && reported !== digest) {
      throw new OciError("DIGEST_MISMATCH", `${what}: the registry stored it as ${reported}, but its digest is ${digest}.`);
    }
    return digest;
  }

  /** Closes pooled connections (the client stays usable and reconnects on demand). */
  close(): Promise<void> {
    return this.transport.close();
  }
}
