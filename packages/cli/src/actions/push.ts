// `tbuild push REF`: an image of the local store to the registry its name says. The
// stored manifest is pushed unchanged (so the registry digest equals the local one);
// layers tbuild built are re-created from their snapshots as they upload.

import type { Command } from "commander";
import { pushContent, registryClient, storedImagesBlobSource } from "@tbuild/builder/transfer";
import { familiarName, parseImageRef } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { indexChildren, resolveImage } from "../images/stored-image.js";

interface PushFlags extends StoreFlags {
  insecure?: boolean;
  quiet?: boolean;
}

export default async function pushAction(cmd: Command): Promise<number> {
  const [refArg] = cmd.processedArgs as [string];
  const f = cmd.optsWithGlobals<PushFlags>();
  const ref = parseImageRef(refArg);
  const client = registryClient(f.insecure ? [ref.registry] : []);
  // The registry's ping (scheme, auth challenge) goes out while the store is read; a
  // failure here is met again, and reported, by the push itself.
  client.transport.base(ref.registry).catch(() => undefined);
  try {
    const result = await withStore(f, async (store) => {
      const img = await resolveImage(store, ref.toString());
      if (!f.quiet) process.stderr.write(`pushing ${familiarName(ref.toString())} to ${ref.registry}\n`);
      // Every platform's layers: built ones are re-created from their snapshots.
      const source = storedImagesBlobSource(store, img.index ? await indexChildren(store, img) : [img]);
      // The store's records say which blobs the registry holds already (mounted, or checked).
      if (img.digest !== img.manifestDigest) {
        const indexBytes = await store.readBlob(img.digest);
        return pushContent({ index: JSON.parse(indexBytes.toString("utf8")), indexBytes }, source, ref.toString(), { client, store });
      }
      return pushContent({ manifest: img.manifest, manifestBytes: img.manifestBytes }, source, ref.toString(), { client, store });
    });
    if (f.quiet) {
      process.stdout.write(`${result.descriptor.digest}\n`);
    } else {
      const { existing, mounted, uploaded } = result.blobs;
      process.stderr.write(`blobs: ${uploaded} uploaded, ${existing} already present, ${mounted} mounted\n`);
      process.stdout.write(`${ref.tag ?? "digest"}: digest: ${result.descriptor.digest} size: ${result.descriptor.size}\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
