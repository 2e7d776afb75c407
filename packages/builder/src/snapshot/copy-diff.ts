// The copy snapshotter's diff: prunes the run's rootfs in place down to what changed
// against its baseline and adds overlay-format markers, so that the directory that is left
// is an overlay upper dir holding exactly the diff (what overlayfs would have put in its
// upper dir for the same run). The rootfs is discarded anyway, so pruning costs no more
// than deleting it, and kept entries keep their exact metadata and hard links.
import { lstatSync, readdirSync, rmdirSync, unlinkSync, type BigIntStats } from "node:fs";
import type { Baseline } from "./baseline.js";
import { makeWhiteouts, markOpaque } from "./overlay-markers.js";
import { Yielder } from "./yield.js";

/**
 * True if some layer holds an entry at `rel` (which the merged view did not show, so it is
 * hidden). Each layer is walked component by component so a symlink in a layer is never
 * followed on the host.
 */
function hiddenInLayers(parents: readonly string[], rel: string): boolean {
  const parts = rel.split("/");
  for (const layer of parents) {
    let p = layer;
    for (let i = 0; i < parts.length; i++) {
      p += "/" + parts[i];
      let st;
      try {
        st = lstatSync(p);
      } catch {
        break;
      }
      if (i === parts.length - 1) return true;
      if (!st.isDirectory()) break;
    }
  }
  return false;
}

/**
 * Prunes `root` (a rootfs materialised from `parents`, top-most first) to the changes since
 * `baseline`/`markerCtimeNs` and writes whiteouts and opaque markers.
 */
export async function pruneToDiff(root: string, baseline: Baseline, markerCtimeNs: bigint, parents: readonly string[]): Promise<void> {
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  const y = new Yielder();
  const abs = (rel: string) => (rel === "" ? root : `${root}/${rel}`);

  const nonDirChanged = (rel: string, st: BigIntStats): boolean => {
    const b = baseline.get(rel);
    if (b === undefined || b.isDir || b.ino !== st.ino) return true;
    if (st.ctimeNs <= markerCtimeNs) return false;
    // Removing another name of a hard-linked file moves this name's ctime too, although
    // overlayfs would not copy it up: with fewer links and the same metadata it is unchanged.
    const same = st.mode === b.mode && st.uid === b.uid && st.gid === b.gid && st.size === b.size && st.mtimeNs === b.mtimeNs;
    return !(same && st.nlink < b.nlink);
  };

  // Returns true if the directory stays in the diff.
  const dir = async (rel: string, st: BigIntStats): Promise<boolean> => {
    const b = baseline.get(rel);
    if (rel !== "" && (b === undefined || !b.isDir || b.ino !== st.ino)) {
      // A new directory: all of it is new. Overlayfs makes it opaque when it replaces
      // something of a lower layer (removed and recreated, or hidden by a whiteout).
      if (b !== undefined || hiddenInLayers(parents, rel)) opaque.push(abs(rel));
      return true;
    }
    const self = b!;
    const changed = st.mode !== self.mode || st.uid !== self.uid || st.gid !== self.gid || st.mtimeNs !== self.mtimeNs;
    let keepChild = false;
    const present = new Set<string>();
    for (const name of readdirSync(abs(rel))) {
      present.add(name);
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const cst = lstatSync(abs(childRel), { bigint: true });
      await y.tick();
      if (cst.isDirectory()) {
        if (await dir(childRel, cst)) keepChild = true;
        else rmdirSync(abs(childRel));
      } else if (nonDirChanged(childRel, cst)) keepChild = true;
      else unlinkSync(abs(childRel));
    }
    for (const name of self.children ?? []) {
      if (!present.has(name)) {
        whiteouts.push(abs(rel === "" ? name : `${rel}/${name}`));
        keepChild = true;
      }
    }
    return rel === "" || changed || keepChild;
  };

  await dir("", lstatSync(root, { bigint: true }));
  await makeWhiteouts(whiteouts);
  await markOpaque(opaque);
}
