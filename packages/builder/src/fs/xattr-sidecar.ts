// The extended attributes of a layer snapshot, recorded next to its tree when the snapshot
// is made (`<snapshot>/xattrs.json`, beside `fs/` and `snapshot.json`). Reading them back
// costs a small file read where asking getfattr costs a process (5–20 ms here, and the
// spawn blocks the main thread), and a build, export or push needs them for every layer
// it views or tars. Snapshots are immutable once committed, so the record stays true; a
// snapshot without one (older stores) is read with getfattr as before.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { XattrMap } from "@tbuild/oci";
import { readXattrTree } from "./xattr.js";

const FILE = "xattrs.json";
const VERSION = 1;

interface SidecarJson {
  v: number;
  /** [relative path, [[name, base64 value], …]] for every entry that has attributes. */
  e: [string, [string, string][]][];
}

/**
 * Reads a filled snapshot draft's attributes (one getfattr) and records them in the draft, so
 * they are committed with it; returns them for the caller's own use (the layer's tar).
 */
export async function recordXattrs(draft: { dir: string; path: string }): Promise<XattrMap> {
  const tree = await readXattrTree(draft.path);
  writeXattrSidecar(draft.dir, tree);
  return tree;
}

/** Writes the record into a snapshot draft's container directory (the parent of its `fs/`). */
export function writeXattrSidecar(snapshotDir: string, tree: XattrMap): void {
  const e: SidecarJson["e"] = [];
  for (const [rel, attrs] of tree) {
    if (attrs.size > 0) e.push([rel, [...attrs].map(([k, v]) => [k, v.toString("base64")])]);
  }
  writeFileSync(path.join(snapshotDir, FILE), JSON.stringify({ v: VERSION, e } satisfies SidecarJson));
}

/**
 * The recorded attributes of the snapshot tree `fsDir` (a store snapshot's `fs/`), or
 * undefined when there is no usable record.
 */
export function readXattrSidecar(fsDir: string): XattrMap | undefined {
  if (path.basename(fsDir) !== "fs") return undefined;
  let data: SidecarJson;
  try {
    data = JSON.parse(readFileSync(path.join(path.dirname(fsDir), FILE), "utf8")) as SidecarJson;
  } catch {
    return undefined; // missing (a snapshot from before records) or unreadable
  }
  if (data.v !== VERSION || !Array.isArray(data.e)) return undefined;
  const tree: XattrMap = new Map();
  for (const [rel, attrs] of data.e) tree.set(rel, new Map(attrs.map(([k, v]) => [k, Buffer.from(v, "base64")])));
  return tree;
}
