// `tbuild pull REF`: an image from its registry into the local store (one platform:
// the host's, or --platform), every blob verified and every layer unpacked; the name points
// at that platform's manifest. The builder's pullToStore does the work (FROM uses it too).

import type { Command } from "commander";
import { parseImageRef } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
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
  const [{ pullToStore }, { parsePlatform }] = await Promise.all([import("@tbuild/builder/transfer"), import("@tbuild/oci")]);
  const pulled = await withStore(f, async (store) => {
    if (!f.quiet) process.stderr.write(`pulling ${ref.toString()}\n`);
    return pullToStore(store, ref, {
      // As docker pull: the layers extracted, so the first build on the image has them ready.
      unpack: true,
      ...(platformText ? { platform: parsePlatform(platformText) } : {}),
      ...(f.insecure ? { insecureRegistries: [ref.registry] } : {}),
    });
  });
  if (!f.quiet) process.stderr.write(`Digest: ${pulled.manifestDigest}\n`);
  process.stdout.write(`${pulled.name}\n`);
  return 0;
}
