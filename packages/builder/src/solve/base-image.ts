// FROM (and COPY --from) of an image: an OCI layout on disk (`oci-layout://path[:tag]`),
// an image in the local store, or else one pulled from its registry into the store.
import { parsePlatform } from "@tbuild/parser";
import { formatPlatform, parseReference, platformRank, type ImageConfig, type Platform } from "@tbuild/oci";
import type { BuildSession } from "./session.js";
import { readStoredImage, stateOfStoredImage } from "../image-state/load-image.js";
import { importOciLayout } from "../image-transfer/import-layout.js";
import { pullBaseImage } from "../image-transfer/pull.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";

export async function loadBaseImage(session: BuildSession, ref: string, platformText?: string): Promise<ImageState> {
  const platform: Platform = platformText ? parsePlatform(platformText) : session.platforms.target;
  const { store } = session;
  let manifestDigest;
  if (ref.startsWith("oci-layout://")) {
    manifestDigest = await importOciLayout(store, ref.slice("oci-layout://".length), platform);
  } else {
    const name = normalizeImageName(ref);
    const rec = (await store.getImage(name)) ?? (await storedByDigest(session, name));
    // A pulled name holds the one platform it was pulled for; another target pulls its own.
    const stored = rec && (await readStoredImage(store, rec.manifest, platform).catch(() => undefined));
    if (stored && runsAs(stored.config, platform)) manifestDigest = rec!.manifest;
    else {
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
  const img = await readStoredImage(store, manifestDigest, platform);
  return stateOfStoredImage(store, img, (refs) => session.hold(refs, { pending: true }));
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

const configPlatform = (c: ImageConfig | undefined): Platform => ({ os: c?.os ?? "unknown", architecture: c?.architecture ?? "unknown", ...(c?.variant ? { variant: c.variant } : {}) });

/** True if an image with this config runs as `platform` (containerd's matching rules). */
function runsAs(config: ImageConfig, platform: Platform): boolean {
  return platformRank(platform, configPlatform(config)) >= 0;
}
