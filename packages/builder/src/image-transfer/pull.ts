// Pulls one platform of an image from its registry into the store: layers streamed into
// blob writers (verified; skipped when already stored), then config and manifest, then
// the name. A failure leaves no name recorded and no partial blob.
import { hostPlatform, parseReference, RegistryClient, type Digest, type ImageReference, type Platform, type Descriptor } from "@tbuild/oci";
import type { BlobWriter, Store } from "@tbuild/cache";
import { readStoredImage, stateOfStoredImage } from "../image-state/load-image.js";
import { manifestBlobs, rememberBlobs } from "./blob-locations.js";

export interface PullOptions {
  platform?: Platform;
  /** Registries reached over plain HTTP besides localhost, 127.0.0.0/8 and ::1. */
  insecureRegistries?: string[];
  client?: RegistryClient;
  /**
   * Name the registry's index (when the tag is multi-platform) instead of the one manifest
   * pulled: the index's other platforms are then pulled when a build first needs them, and
   * one name serves every target of a multi-platform build (as in containerd's store).
   */
  nameIndex?: boolean;
  /**
   * Unpack every layer into its snapshot now, as `docker pull` extracts them, so that the
   * first build on the image does not (FROM unpacks what is not unpacked yet anyway).
   */
  unpack?: boolean;
}

export interface PulledToStore {
  manifestDigest: Digest;
  descriptor: Descriptor;
  name: string;
}

/** A registry client with tbuild's defaults (insecure hosts, user agent). */
export function registryClient(insecureRegistries: readonly string[] = []): RegistryClient {
  const hosts = Object.fromEntries(insecureRegistries.map((h) => [h, { insecure: true }]));
  // Five transfers at a time, as docker push and pull default to.
  return new RegistryClient({ hosts, userAgent: "tbuild", concurrency: 5 });
}

export async function pullToStore(store: Store, ref: ImageReference, opts: PullOptions = {}): Promise<PulledToStore> {
  const client = opts.client ?? registryClient(opts.insecureRegistries);
  const writers: { writer: BlobWriter; digest: Digest; size: number }[] = [];
  // Everything pulled is leased before it is written, until the name points at it.
  const lease = await store.lease();
  const protect = (blobs: Digest[]) => lease.add({ blobs }, { pending: true });
  try {
    const image = await client.pull(ref, {
      ...(opts.platform ? { platform: opts.platform } : {}),
      layerSink: async (layer) => {
        await protect([layer.digest]);
        if (await store.hasBlob(layer.digest)) return null;
        const writer = await store.blobWriter();
        writers.push({ writer, digest: layer.digest, size: layer.size });
        return writer;
      },
    });
    for (const w of writers.splice(0)) await w.writer.commit({ digest: w.digest, size: w.size });
    await protect([image.manifest.config.digest, image.descriptor.digest]);
    await store.putBlob(image.configBytes, { digest: image.manifest.config.digest });
    await store.putBlob(image.manifestBytes, { digest: image.descriptor.digest });
    const name = ref.toString();
    const named = opts.nameIndex && image.index ? image.index.descriptor : image.descriptor;
    if (named !== image.descriptor) {
      await protect([named.digest]);
      await store.putBlob(image.index!.bytes, { digest: named.digest });
    }
    if (opts.unpack) {
      const stored = await readStoredImage(store, image.descriptor.digest, opts.platform ?? hostPlatform());
      await stateOfStoredImage(store, stored, (refs) => lease.add(refs, { pending: true }));
    }
    await store.putImage(name, { manifest: named.digest, mediaType: named.mediaType });
    await rememberBlobs(store, ref, manifestBlobs([image.manifest]));
    return { manifestDigest: image.descriptor.digest, descriptor: image.descriptor, name };
  } finally {
    for (const w of writers) await w.writer.abort().catch(() => {});
    await lease.release();
    if (!opts.client) await client.close();
  }
}

/**
 * FROM an image that is not in the local store: pulled from its registry (then kept in the
 * store under its full name, like `docker pull`). Returns the manifest digest; a failure
 * says which source image could not be resolved.
 */
export async function pullBaseImage(store: Store, name: string, platform: Platform, insecureRegistries?: string[]): Promise<Digest> {
  const ref = parseReference(name);
  try {
    return (await pullToStore(store, ref, { platform, insecureRegistries, nameIndex: true })).manifestDigest;
  } catch (e) {
    throw new Error(`failed to resolve source image ${ref.familiar}: ${(e as Error).message}`, { cause: e });
  }
}
