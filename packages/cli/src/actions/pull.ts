// `tbuild pull REF`: an image from its registry into the local store (one platform:
// the host's, or --platform), every blob verified; the name points at that platform's
// manifest.

import type { Command } from "commander";
import type { BlobWriter } from "@tbuild/cache";
import { CommandError } from "../errors.js";
import { parseImageRef } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { registryClient } from "../images/registry.js";
import { parsePlatform as checkPlatform } from "../options/platform.js";

interface PullFlags extends StoreFlags {
  platform?: string;
  insecure?: boolean;
  quiet?: boolean;
}

export default async function pullAction(cmd: Command): Promise<number> {
  const [refArg] = cmd.processedArgs as [string];
  const f = cmd.optsWithGlobals<PullFlags>();
  const ref = parseImageRef(refArg);
  const platformText = f.platform === undefined ? undefined : checkPlatform(f.platform);
  const { parsePlatform } = await import("@tbuild/oci");
  const client = await registryClient(f.insecure ? [ref.registry] : []);
  try {
    const pulled = await withStore(f, async (store) => {
      if (!f.quiet) process.stderr.write(`pulling ${ref.toString()}\n`);
      const writers: { writer: BlobWriter; digest: `sha256:${string}`; size: number }[] = [];
      let image;
      try {
        image = await client.pull(ref, {
          ...(platformText ? { platform: parsePlatform(platformText) } : {}),
          layerSink: async (layer) => {
            if (await store.hasBlob(layer.digest)) return null;
            const writer = await store.blobWriter();
            writers.push({ writer, digest: layer.digest, size: layer.size });
            return writer;
          },
        });
        for (const w of writers) await w.writer.commit({ digest: w.digest, size: w.size });
      } catch (err) {
        for (const w of writers) await w.writer.abort().catch(() => {});
        throw err;
      }
      await store.putBlob(image.configBytes, { digest: image.manifest.config.digest });
      await store.putBlob(image.manifestBytes, { digest: image.descriptor.digest });
      await store.putImage(ref.toString(), { manifest: image.descriptor.digest, mediaType: image.descriptor.mediaType });
      return image;
    });
    if (!pulled) throw new CommandError(`pulling ${ref.toString()} gave no image`);
    if (!f.quiet) process.stderr.write(`Digest: ${pulled.descriptor.digest}\n`);
    process.stdout.write(`${ref.toString()}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
