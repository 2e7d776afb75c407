// The fallback snapshotter for machines without a usable overlayfs: a step's rootfs is a
// full copy of its parents' merged view, and the diff is found by walking it against a
// baseline recorded before the run (see baseline.ts, copy-diff.ts). The same RUN gives the
// same layer content as with overlayfs.
import { mkdir, rename, rm } from "node:fs/promises";
import { ctimeMarker, recordBaseline, type Baseline } from "./baseline.js";
import { pruneToDiff } from "./copy-diff.js";
import { materialize } from "./materialize.js";
import type { PreparedRootfs, Snapshotter } from "./types.js";

interface State {
  scratch: string;
  baseline: Baseline;
  markerCtimeNs: bigint;
}

function scratchOf(rootfsPath: string): string {
  return rootfsPath.slice(0, rootfsPath.lastIndexOf("/"));
}

export class CopySnapshotter implements Snapshotter {
  readonly name = "copy" as const;
  private readonly states = new Map<string, State>();

  async prepare(parents: string[], scratch: string): Promise<PreparedRootfs> {
    const path = `${scratch}/rootfs`;
    await mkdir(path, { mode: 0o755 });
    await materialize(parents, path);
    const baseline = await recordBaseline(path);
    const markerCtimeNs = await ctimeMarker(`${scratch}/.ctime-marker`);
    this.states.set(path, { scratch, baseline, markerCtimeNs });
    return { kind: "dir", path };
  }

  /** Prunes the rootfs to the diff and moves it to `<scratch>/diff`. */
  async diff(rootfs: PreparedRootfs, parents: string[]): Promise<string> {
    if (rootfs.kind !== "dir") throw new Error(`the copy snapshotter cannot take the diff of a ${rootfs.kind} rootfs`);
    const st = this.states.get(rootfs.path);
    if (st === undefined) throw new Error(`the copy snapshotter did not prepare ${rootfs.path} (or its diff was already taken)`);
    this.states.delete(rootfs.path);
    await pruneToDiff(rootfs.path, st.baseline, st.markerCtimeNs, parents);
    const out = `${st.scratch}/diff`;
    await rename(rootfs.path, out);
    return out;
  }

  async release(rootfs: PreparedRootfs): Promise<void> {
    if (rootfs.kind !== "dir") return;
    this.states.delete(rootfs.path);
    const scratch = scratchOf(rootfs.path);
    await rm(rootfs.path, { recursive: true, force: true });
    await rm(`${scratch}/diff`, { recursive: true, force: true });
    await rm(`${scratch}/.ctime-marker`, { force: true });
  }
}
