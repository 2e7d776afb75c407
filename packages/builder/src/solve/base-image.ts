// FROM (and COPY --from) of an image: an OCI layout on disk (`oci-layout://path[:tag]`),
// an image in the local store, or else one pulled from its registry into the store.
import { parsePlatform } from "@tbuild/parser";
import { parseReference, type Platform } from "@tbuild/oci";
import type { BuildSession } from "./session.js";
import { readStoredImage, stateOfStoredImage } from "../image-state/load-image.js";
import { importOciLayout } from "../image-transfer/import-layout.js";
import { pullBaseImage } from "../image-transfer/pull.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";
import { noteOrigin } from "./explain/origins.js";

export async function loadBaseImage(session: BuildSession, ref: string, platformText?: string): Promise<ImageState> {
  const platform: Platform = platformText ? parsePlatform(platformText) : session.platforms.target;
  const { store } = session;
  let manifestDigest;
  if (ref.startsWith("oci-layout://")) {
    manifestDigest = await importOciLayout(store, ref.slice("oci-layout://".length), platform);
  } else {
    const name = normalizeImageName(ref);
    const rec = (await store.getImage(name)) ?? (await storedByDigest(session, name));
    if (rec) manifestDigest = rec.manifest;
    else {
      session.pulledImages.add(ref); // its FROM reports "ran", not "cached"
      manifestDigest = await pullBaseImage(store, name, platform, session.opts.insecureRegistries);
    }
  }
  const img = await readStoredImage(store, manifestDigest, platform);
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
