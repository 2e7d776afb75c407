// `tbuild tag SOURCE TARGET`: another name for an image in the local store.

import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { normalizeName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { resolveImage } from "../images/stored-image.js";

export default async function tagAction(cmd: Command): Promise<number> {
  const [source, target] = cmd.processedArgs as [string, string];
  const f = cmd.optsWithGlobals<StoreFlags>();
  const name = normalizeName(target, "target name");
  if (name.includes("@")) throw new UsageError(`target name ${target} must not contain a digest`);
  await withStore(f, async (store) => {
    const img = await resolveImage(store, source);
    const rec = img.names.length ? await store.getImage(img.names[0]!) : undefined;
    const mediaType = rec?.mediaType ?? img.manifest.mediaType;
    await store.putImage(name, { manifest: img.digest, ...(mediaType ? { mediaType } : {}) });
  });
  return 0;
}
