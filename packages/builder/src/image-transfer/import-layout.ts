// FROM oci-layout://DIR[:TAG] (and @DIGEST), as BuildKit's named contexts allow: the image
// is read from the layout and its blobs are stored, then it builds like any stored image.
import { readOciLayout, findImage } from "@tbuild/oci";
import type { BlobSource, Digest, Platform, ResolvedManifest } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { ingestManifest, manifestFor } from "./ingest.js";

export async function importOciLayout(store: Store, spec: string, platform: Platform): Promise<Digest> {
  const { manifest, blobs } = await resolveOciLayout(spec, platform);
  return ingestManifest(store, manifest, blobs);
}

/** The layout directory of `DIR[:TAG|@DIGEST]` and the manifest it names for `platform` (also the remote backend's, convert/named-context.ts). */
export async function resolveOciLayout(spec: string, platform: Platform): Promise<{ dir: string; manifest: ResolvedManifest; blobs: BlobSource }> {
  const { dir, tag, digest } = splitLayoutSpec(spec);
  const where = `OCI layout ${dir}`;
  const set = await readOciLayout(dir);
  const img = digest ? set.images.find((i) => i.descriptor.digest === digest || i.manifests.some((m) => m.descriptor.digest === digest)) : findImage(set, tag, where);
  if (!img) throw new Error(`${where} has no image ${digest}`);
  const manifest = digest && img.descriptor.digest !== digest ? img.manifests.find((m) => m.descriptor.digest === digest)! : manifestFor(img, platform, where);
  return { dir, manifest, blobs: set.blobs };
}

/** `DIR[:TAG|@DIGEST]` in its parts. */
export function splitLayoutSpec(spec: string): { dir: string; tag?: string; digest?: string } {
  const at = spec.lastIndexOf("@");
  if (at > 0 && spec.slice(at + 1).startsWith("sha256:")) return { dir: spec.slice(0, at), digest: spec.slice(at + 1) };
  const colon = spec.lastIndexOf(":");
  if (colon > spec.lastIndexOf("/")) return { dir: spec.slice(0, colon), tag: spec.slice(colon + 1) };
  return { dir: spec };
}
