// A container's root filesystem: its image's snapshots (unpacked once into the store and
// shared with builds) as overlay lowers, and the container's own upper dir. Nothing is
// copied. The snapshots are leased while the container runs; a stopped container's are
// unpacked again from the image's blobs if a prune took them.
import type { Lease, Store } from "@tbuild/cache";
import { chainsOf, ensureSnapshotFromBlob } from "@tbuild/builder";
import { RuntimeError } from "../errors.js";
import type { ImageRef } from "./types.js";

/** Snapshot dirs of the image, top-most first, leased by `lease`. */
export async function imageLowers(store: Store, image: ImageRef, lease: Lease): Promise<string[]> {
  const chains = chainsOf(image.layers.map((l) => l.diffID));
  const protect = (refs: { blobs?: string[]; snapshots?: string[] }) => lease.add(refs as never, { pending: true });
  for (let i = 0; i < image.layers.length; i++) {
    try {
      await ensureSnapshotFromBlob(store, image.layers[i]!.blob, image.layers[i]!.diffID, chains[i]!, chains[i - 1], protect);
    } catch (e) {
      throw new RuntimeError(`the image ${image.ref} (${image.id}) of this container is no longer complete in the store: ${(e as Error).message}`, { cause: e });
    }
  }
  return chains.map((c) => store.snapshotPath(c)).reverse();
}
