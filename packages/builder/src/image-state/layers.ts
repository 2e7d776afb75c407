// Layers in the store: a snapshot directory (overlay-lower format) per chain ID, and a
// layer record per diffID. A layer tbuild built keeps no tar: its snapshot is the data,
// and the deterministic tar writer re-creates the exact bytes (same diffID) whenever an
// export needs them. A base image's layers keep their original blobs instead.
import { Writable } from "node:stream";
import { existsSync, lstatSync, promises as fsp, readdirSync } from "node:fs";
import path from "node:path";
import { RELEASES_CHUNKS, unpackLayer, writeLayer, type Digest } from "@tbuild/oci";
import { sha256Digest, type SnapshotDraft, type Store } from "@tbuild/cache";
import { recordXattrs } from "../fs/xattr-sidecar.js";
import { execFileAsync } from "../util/exec-file.js";

/** Chain ID of `diffID` on top of a parent chain (OCI image spec). */
export function chainOf(parent: Digest | undefined, diffID: Digest): Digest {
  return parent ? sha256Digest(`${parent} ${diffID}`) : diffID;
}

/** Chain IDs of a whole diff_ids list, bottom to top. */
export function chainsOf(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) out.push(chainOf(out[out.length - 1], d));
  return out;
}

/** A sink that only lets the tar be hashed; it keeps no chunk, so writeLayer may reuse them. */
const discard = () => Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { [RELEASES_CHUNKS]: true });

export interface CommittedLayer {
  diffID: Digest;
  size: number;
  chainID: Digest;
}

/**
 * Turns a filled draft (overlay-upper format) into a layer on top of `parentChain`: hashes
 * its tar (nothing is written), records the layer, and renames the draft into place.
 * With SOURCE_DATE_EPOCH the tar is stored too, because the snapshot keeps real mtimes.
 */
export async function commitLayerDraft(
  store: Store,
  draft: SnapshotDraft,
  parentChain: Digest | undefined,
  sourceDateEpoch: number | undefined,
  protect: (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => Promise<unknown>,
): Promise<CommittedLayer> {
  // Read once: the tar writer needs them, and the snapshot keeps them (xattr-sidecar.ts)
  // for every later view, export and push of this layer.
  const xattrs = await recordXattrs(draft);
  const source = { kind: "overlay-upper" as const, dir: draft.path, xattrs };
  const small = isSmallTree(draft.path);
  let diffID: Digest;
  let size: number;
  if (sourceDateEpoch === undefined) {
    ({ diffID, size } = await writeLayer(source, discard(), { small }));
  } else {
    const w = await store.blobWriter();
    ({ diffID, size } = await writeLayer(source, w, { sourceDateEpoch, small }));
    await protect({ blobs: [diffID] });
    await w.commit({ digest: diffID });
  }
  const chainID = chainOf(parentChain, diffID);
  // Leased before it appears, so a concurrent prune cannot take it before its first use.
  await protect({ snapshots: [chainID] });
  await store.putLayer(diffID, size);
  await store.commitSnapshot(draft, chainID, { ...(parentChain ? { parent: parentChain } : {}), diffID, size });
  return { diffID, size, chainID };
}

/**
 * Makes sure the snapshot of one image layer exists, unpacking its blob (any compression)
 * into a draft first. `blob` is the manifest's layer digest, present in the store.
 */
export async function ensureSnapshotFromBlob(
  store: Store,
  blob: Digest,
  diffID: Digest,
  chainID: Digest,
  parentChain: Digest | undefined,
  protect: (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => Promise<unknown>,
): Promise<void> {
  await protect({ snapshots: [chainID], blobs: [blob] });
  if (await store.hasSnapshot(chainID)) return;
  if (!(await store.hasBlob(blob))) {
    throw new Error(`layer ${diffID} of this image is missing from the store (blob ${blob}); pull or load the image again`);
  }
  const draft = await store.prepareSnapshot();
  try {
    const r = await unpackLayer(store.openBlob(blob, { verify: false }), draft.path, {
      whiteouts: "overlay",
      expectedDigest: blob,
      expectedDiffID: diffID,
    });
    await store.putLayer(diffID, r.size);
    // Recorded once here, so that no later view, export or push of this layer needs getfattr.
    await recordXattrs(draft);
    await store.commitSnapshot(draft, chainID, { ...(parentChain ? { parent: parentChain } : {}), diffID });
  } catch (e) {
    await store.abortSnapshot(draft).catch(() => {});
    throw e;
  }
}

/**
 * Whether a diff is small enough (few entries, few bytes) to tar on the main thread: most
 * RUN, WORKDIR and small COPY layers. Stops counting as soon as it is not.
 */
export function isSmallTree(dir: string, maxEntries = 256, maxBytes = 8 << 20): boolean {
  let entries = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (++entries > maxEntries) return false;
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && (bytes += lstatSync(p).size) > maxBytes) return false;
    }
  }
  return true;
}

/** Removes a directory tree, ignoring a missing one. */
export async function removeTree(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Makes the snapshot `chainID` (layer `diffID` on `parentChain`) from another snapshot of the
 * same layer among `sources`, by copying its tree (`cp -a --reflink=auto`) and its attribute
 * record. For a cache hit whose layer does not depend on what is below it (COPY --link):
 * the layer is the same, only the chain is new. False when no usable source is left.
 */
export async function snapshotFromSibling(
  store: Store,
  sources: readonly Digest[],
  diffID: Digest,
  chainID: Digest,
  parentChain: Digest | undefined,
  protect: (refs: { snapshots: Digest[] }, pending?: boolean) => Promise<{ snapshots: Digest[] }>,
): Promise<boolean> {
  for (const src of sources) {
    if (src === chainID || (await protect({ snapshots: [src] })).snapshots.includes(src)) continue;
    if ((await store.getSnapshot(src))?.diffID !== diffID) continue;
    await protect({ snapshots: [chainID] }, true);
    const draft = await store.prepareSnapshot();
    try {
      await execFileAsync("cp", ["-a", "--reflink=auto", "--no-target-directory", "--", store.snapshotPath(src), draft.path]);
      const sidecar = path.join(path.dirname(store.snapshotPath(src)), "xattrs.json");
      if (existsSync(sidecar)) await fsp.copyFile(sidecar, path.join(draft.dir, "xattrs.json"));
      await store.commitSnapshot(draft, chainID, { ...(parentChain ? { parent: parentChain } : {}), diffID });
      return true;
    } catch {
      await store.abortSnapshot(draft).catch(() => {});
    }
  }
  return false;
}
