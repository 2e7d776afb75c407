// `tbuild rmi REF…`: removes names from the local store, like `docker rmi`. The data
// stays until no name and no cache record needs it, then `tbuild prune` frees it.

import type { Command } from "commander";
import { CommandError, reportError, debugEnabled } from "../errors.js";
import { familiarName, normalizeName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { resolveImage } from "../images/stored-image.js";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "@tbuild/cache";
import { loadRuntime } from "../containers/runtime-kit.js";

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
        const rec = name !== undefined ? await store.getImage(name) : undefined;
        if (name !== undefined && rec) {
          if (!f.force) await refuseIfLastNameOfUsedImage(store, name, rec.manifest);
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
        if (!f.force && img.names.length > 0) await refuseIfLastNameOfUsedImage(store, img.names[0]!, img.digest, img.names.length);
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

/**
 * Docker's conflict rule: the last name of an image a container uses stays (without
 * --force), since a stopped container needs the image's layers to start again.
 */
async function refuseIfLastNameOfUsedImage(store: Store, name: string, manifest: string, removing = 1): Promise<void> {
  const dir = join(store.root, "containers");
  if (!existsSync(dir) || readdirSync(dir).length === 0) return;
  const others = (await store.listImages()).filter((r) => r.manifest === manifest).length - removing;
  if (others > 0) return;
  const rt = await loadRuntime();
  const users = (await new rt.ContainerStore(store.root).list()).filter((c) => c.config.image.manifest === manifest || c.config.image.id === manifest);
  if (users.length) throw new CommandError(`unable to remove ${familiarName(name)}: container ${users[0]!.config.name} uses it (remove the container first, or use --force)`);
}

function untagged(name: string): void {
  process.stdout.write(`Untagged: ${familiarName(name)}\n`);
}
