// `tbuild rmi REF…`: removes names from the local store, like `docker rmi`. The data
// stays until no name and no cache record needs it, then `tbuild prune` frees it.

import type { Command } from "commander";
import { CommandError, reportError, debugEnabled } from "../errors.js";
import { familiarName, normalizeName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { resolveImage } from "../images/stored-image.js";

interface RmiFlags extends StoreFlags {
  force?: boolean;
}

export default async function rmiAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<RmiFlags>();
  let failed = 0;
  await withStore(f, async (store) => {
    for (const ref of refs) {
      try {
        let name: string | undefined;
        try {
          name = normalizeName(ref);
        } catch {
          name = undefined;
        }
        if (name !== undefined && (await store.getImage(name))) {
          await store.deleteImage(name);
          untagged(name);
          continue;
        }
        const img = await resolveImage(store, ref);
        if (img.names.length > 1 && !f.force) {
          throw new CommandError(
            `image ${ref} is referenced by ${img.names.length} names (${img.names.map(familiarName).join(", ")}); remove them by name or use --force`,
          );
        }
        for (const n of img.names) {
          await store.deleteImage(n);
          untagged(n);
        }
      } catch (err) {
        failed++;
        reportError(err, debugEnabled());
      }
    }
  });
  return failed ? 1 : 0;
}

function untagged(name: string): void {
  process.stdout.write(`Untagged: ${familiarName(name)}\n`);
}
