// The default snapshotter: a step's rootfs is an overlayfs of its parents' snapshot
// directories with a fresh upper dir, mounted by the executor inside the step's private
// mount namespace; after the run the upper dir is the diff, already in the store's format.
import { chmod, chown, lstat, mkdir, rm } from "node:fs/promises";
import type { PreparedRootfs, Snapshotter } from "./types.js";

export class OverlaySnapshotter implements Snapshotter {
  readonly name = "overlay" as const;

  async prepare(parents: string[], scratch: string): Promise<PreparedRootfs> {
    const upper = `${scratch}/upper`;
    const work = `${scratch}/work`;
    await mkdir(upper, { mode: 0o755 });
    await mkdir(work, { mode: 0o700 });
    // The merged root takes the upper root's attributes; give it those of the image's root,
    // as the copy snapshotter's full copy has them.
    if (parents.length > 0) {
      const st = await lstat(parents[0]!);
      await chown(upper, st.uid, st.gid);
      await chmod(upper, st.mode & 0o7777);
    }
    return { kind: "overlay", lowers: [...parents], upper, work };
  }

  /** The upper dir itself: the executor removed its mount stubs after the run. */
  async diff(rootfs: PreparedRootfs): Promise<string> {
    if (rootfs.kind !== "overlay") throw new Error(`the overlay snapshotter cannot take the diff of a ${rootfs.kind} rootfs`);
    return rootfs.upper;
  }

  async release(rootfs: PreparedRootfs): Promise<void> {
    if (rootfs.kind !== "overlay") return;
    await rm(rootfs.work, { recursive: true, force: true });
    await rm(rootfs.upper, { recursive: true, force: true });
  }
}
