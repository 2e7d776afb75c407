// FROM (and COPY --from) of an image: an OCI layout on disk (`oci-layout://path[:tag]`),
// an image in the local store, or else one pulled from its registry into the store.
import { parsePlatform } from "@tbuild/parser";
import { formatPlatform, parseReference, platformRank, type Digest, type ImageConfig, type Platform } from "@tbuild/oci";
import { registryRemote } from "../remote-cache/blob-remote.js";
import type { BuildSession } from "./session.js";
import { readStoredImage, stateOfImage, stateOfStoredImage } from "../image-state/load-image.js";
import { importOciLayout } from "../image-transfer/import-layout.js";
import { pullBaseImage } from "../image-transfer/pull.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";
import { noteOrigin } from "./explain/origins.js";

export async function loadBaseImage(session: BuildSession, ref: string, platformText?: string): Promise<ImageState> {
  const platform: Platform = platformText ? parsePlatform(platformText) : session.platforms.target;
  const { store } = session;
  let manifestDigest;
  let rec: Awaited<ReturnType<typeof store.getImage>>;
  let stored: Awaited<ReturnType<typeof readStoredImage>> | undefined;
  if (ref.startsWith("oci-layout://")) {
    manifestDigest = await importOciLayout(store, ref.slice("oci-layout://".length), platform);
  } else {
    const name = normalizeImageName(ref);
    rec = (await store.getImage(name)) ?? (await storedByDigest(session, name));
    // A pulled name holds the one platform it was pulled for; another target pulls its own.
    stored = rec && (await readStoredImage(store, rec.manifest, platform).catch(() => undefined));
    if (stored && runsAs(stored.config, platform)) manifestDigest = rec!.manifest;
    else if (!rec && session.opts.cacheFrom?.length) {
      // With an imported cache, the base's layers may never be needed: read its manifest and
      // config only, and fetch a layer when a step must run on it (or an output needs it).
      return lazyBaseImage(session, name, platform);
    } else {
      try {
        manifestDigest = await pullBaseImage(store, name, platform, session.opts.insecureRegistries);
        session.pulledImages.add(ref); // its FROM reports "ran", not "cached"
      } catch (e) {
        if (!rec) throw e;
        // Only a local image of another platform: used as it is, as Docker does, with a word.
        session.emit({ type: "warning", message: `FROM ${ref}: the local image is for ${formatPlatform(configPlatform(stored?.config))}, not ${formatPlatform(platform)}, and no ${formatPlatform(platform)} image could be pulled (${(e as Error).message})`, time: Date.now() });
        manifestDigest = rec.manifest;
      }
    }
  }
  // The local image read above is the one to use unless something else was chosen since.
  const img = stored && manifestDigest === rec?.manifest ? stored : await readStoredImage(store, manifestDigest, platform);
  const state = await stateOfStoredImage(store, img, (refs) => session.hold(refs, { pending: true }));
  // A later cache miss on this filesystem can then say "base image digest changed".
  noteOrigin(session, state.fsKey, { kind: "base", ref, digest: manifestDigest });
  return state;
}

/**
 * `name@sha256:…` of an image the store holds under another name (a tag it was built or
 * pulled as): the digest names the content, so any record of the same repository with that
 * manifest is it. Without this an offline `FROM app@sha256:…` of a local image went to the
 * registry.
 */
async function storedByDigest(session: BuildSession, name: string) {
  const want = parseReference(name);
  if (!want.digest) return undefined;
  const sameRepo = (n: string) => {
    try {
      const r = parseReference(n);
      return r.registry === want.registry && r.repository === want.repository;
    } catch {
      return false;
    }
  };
  return (await session.store.listImages()).find((r) => r.manifest === want.digest && sameRepo(r.name));
}

/**
 * A base image described but not pulled: manifest and config in the store (unnamed: a
 * named image is always whole), layers registered as lazy blobs of its repository.
 */
async function lazyBaseImage(session: BuildSession, name: string, platform: Platform): Promise<ImageState> {
  const ref = parseReference(name);
  try {
    const client = session.registry();
    const resolved = await client.resolve(ref, platform);
    const configBytes = await client.fetchSmallBlob(ref, resolved.manifest.config);
    const protect = (blobs: Digest[]) => session.hold({ blobs }, { pending: true });
    await protect([resolved.manifest.config.digest, resolved.descriptor.digest]);
    await session.store.putBlob(configBytes, { digest: resolved.manifest.config.digest });
    await session.store.putBlob(resolved.manifestBytes, { digest: resolved.descriptor.digest });
    const img = await readStoredImage(session.store, resolved.descriptor.digest, platform);
    const remote = registryRemote(client, ref, ref.toString());
    for (const l of img.manifest.layers) if (!(await session.store.hasBlob(l.digest))) session.lazy.register(l, remote);
    const sizes = await Promise.all(img.config.rootfs.diff_ids.map(async (d) => (await session.store.getLayer(d))?.size ?? 0));
    return stateOfImage(img, sizes);
  } catch (e) {
    throw new Error(`failed to resolve source image ${ref.familiar}: ${(e as Error).message}`, { cause: e });
  }
}

const configPlatform = (c: ImageConfig | undefined): Platform => ({ os: c?.os ?? "unknown", architecture: c?.architecture ?? "unknown", ...(c?.variant ? { variant: c.variant } : {}) });

/** True if an image with this config runs as `platform` (containerd's matching rules). */
function runsAs(config: ImageConfig, platform: Platform): boolean {
  return platformRank(platform, configPlatform(config)) >= 0;
}
