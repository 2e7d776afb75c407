// FROM oci-layout://DIR[:TAG] (and @DIGEST), as BuildKit's named contexts allow: the image
// is read from the layout and its blobs are stored, then it builds like any stored image.
import { readOciLayout, findImage } from "@tbuild/oci";
import type { Digest, Platform } from "@tbuild/oci";
import type { Store } from "@tbuild/cache";
import { ingestManifest, manifestFor } from "./ingest.js";

export async function importOciLayout(store: Store, spec: string, platform: Platform): Promise<Digest> {
  let dir = spec;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = spec.lastIndexOf("@");
  if (at > 0 && spec.slice(at + 1).startsWith("sha256:")) {
    digest = spec.slice(at + 1);
    dir = spec.slice(0, at);
  } else {
    const colon = spec.lastIndexOf(":");
    if (colon > spec.lastIndexOf("/")) {
      tag = spec.slice(colon + 1);
      dir = spec.slice(0, colon);
    }
  }
  const where = `OCI layout ${dir}`;
  const set = await readOciLayout(dir);
  const img = digest ? set.images.find((i) => i.descriptor.digest === digest || i.manifests.some((m) => m.descriptor.digest === digest)) : findImage(set, tag, where);
  if (!img) throw new Error(`${where} has no image ${digest}`);
  return ingestManifest(store, manifestFor(img, platform, where), set.blobs);
}
