// Materialises a stack of overlay-format layers into one plain directory, for the copy
// snapshotter. Layers are applied bottom to top with GNU `cp -a --reflink=auto` (one
// process per layer; exact nanosecond times, owners, modes, xattrs, hard links, device
// nodes; reflinks where the filesystem has them). Files are copied, never hard-linked to
// the snapshot: a RUN writing to a file in place would otherwise corrupt the store.
// Before each layer is copied, whatever it hides in the directory is removed: whiteouts
// delete their path, opaque directories drop the lower contents, and an entry of another
// kind (a file where a directory was, a directory over a symlink) replaces the old one.
// Removing every lower non-directory the layer also holds means cp never writes through a
// symlink of a lower layer, and walking parents before children means no removal runs
// through one either.
import { execFile } from "node:child_process";
import { lstatSync, readdirSync, rmSync, unlinkSync, type Dirent } from "node:fs";
import { layerAttrs } from "../fs/layer-attrs.js";
import { findTool } from "../sandbox/host-tools.js";
import { unmarkOpaque } from "./overlay-markers.js";
import { Yielder } from "./yield.js";

function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

interface LayerPlan {
  /** Relative paths of whiteouts: removed from the target before, and after the copy. */
  whiteouts: string[];
}

/** Clears what layer `layer` hides or replaces in `dest`; returns the whiteouts it holds. */
async function clearForLayer(layer: string, dest: string, opaque: ReadonlySet<string>): Promise<LayerPlan> {
  const whiteouts: string[] = [];
  const y = new Yielder();
  const visit = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(rel === "" ? layer : `${layer}/${rel}`, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const ent of entries) {
      const p = rel === "" ? ent.name : `${rel}/${ent.name}`;
      const target = `${dest}/${p}`;
      if (ent.isCharacterDevice() && lstatSync(`${layer}/${p}`).rdev === 0) {
        whiteouts.push(p);
        rmSync(target, { recursive: true, force: true });
        continue;
      }
      const existing = lstatOrUndefined(target);
      if (ent.isDirectory()) {
        if (existing && (!existing.isDirectory() || opaque.has(p))) rmSync(target, { recursive: true, force: true });
        await visit(p);
      } else if (existing) {
        if (existing.isDirectory()) rmSync(target, { recursive: true, force: true });
        else unlinkSync(target);
      }
      await y.tick();
    }
  };
  if (opaque.has("")) {
    for (const name of readdirSync(dest)) rmSync(`${dest}/${name}`, { recursive: true, force: true });
  }
  await visit("");
  return { whiteouts };
}

function cpLayer(cp: string, layer: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cp, ["-a", "--reflink=auto", "--no-target-directory", "--", layer, dest], { maxBuffer: 1 << 20 }, (err, _o, stderr) => {
      if (err) reject(new Error(`copying layer ${layer} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/** Fills the existing, empty directory `dest` with the merged view of `parents` (top-most first). */
export async function materialize(parents: readonly string[], dest: string): Promise<void> {
  const cp = findTool("cp");
  if (cp === undefined) throw new Error(`the copy snapshotter needs "cp" (Debian package coreutils), which is not installed`);
  for (const layer of [...parents].reverse()) {
    if (readdirSync(layer).length === 0) continue; // e.g. the diff of a RUN that changed nothing
    const { opaque } = await layerAttrs(layer);
    const plan = await clearForLayer(layer, dest, opaque);
    await cpLayer(cp, layer, dest);
    for (const w of plan.whiteouts) rmSync(`${dest}/${w}`, { force: true });
    const marked = [...opaque].map((p) => (p === "" ? dest : `${dest}/${p}`));
    if (marked.length > 0) await unmarkOpaque(marked);
  }
}
