// `tbuild inspect REF…`: an image's manifest and config as JSON, in the spirit of
// `docker image inspect` (an array, one object per image) and `skopeo inspect`.

import type { Command } from "commander";
import { formatPlatform } from "@tbuild/oci";
import { familiarName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { resolveImage, type StoredImage } from "../images/stored-image.js";
import { inspectContainers } from "./container-inspect.js";

interface InspectFlags extends StoreFlags {
  type: "image" | "manifest" | "config";
}

export default async function inspectAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<InspectFlags>();
  const docs = await withStore(f, async (store) => {
    const out: unknown[] = [];
    for (const ref of refs) {
      let img: StoredImage;
      try {
        img = await resolveImage(store, ref);
      } catch (e) {
        // Not an image: a container of that name or ID, as `docker inspect` finds either.
        const container = f.type === "image" ? await inspectContainers(f, [ref]).catch(() => undefined) : undefined;
        if (!container) throw e;
        out.push(...container);
        continue;
      }
      out.push(f.type === "manifest" ? img.manifest : f.type === "config" ? img.config : describe(img));
    }
    return out;
  });
  const value = f.type === "image" || docs.length > 1 ? docs : docs[0];
  process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
  return 0;
}

/** The `docker image inspect`-like summary, with the manifest and full config attached. */
function describe(img: StoredImage): Record<string, unknown> {
  const c = img.config;
  return {
    Id: img.configDigest,
    Digest: img.manifestDigest,
    RepoTags: img.names.map(familiarName),
    Created: c.created ?? null,
    Author: c.author ?? "",
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.size,
    Config: c.config ?? {},
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Layers: img.manifest.layers.map((l) => ({ MIMEType: l.mediaType, Digest: l.digest, Size: l.size })),
    Manifest: img.manifest,
    ImageConfig: c,
    // A multi-platform image: the index and each platform's manifest (Digest above is the one shown).
    ...(img.index
      ? {
          Index: {
            Digest: img.digest,
            MediaType: img.index.index.mediaType ?? "application/vnd.oci.image.index.v1+json",
            Manifests: img.index.manifests.map(({ descriptor: d, present }) => ({
              Digest: d.digest,
              Platform: d.platform ? formatPlatform(d.platform) : "unknown",
              Size: d.size,
              InStore: present,
            })),
          },
        }
      : {}),
  };
}
