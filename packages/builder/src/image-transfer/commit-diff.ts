// `tbuild commit`: an image from a stored image plus a diff in overlay-upper format (a
// container's writable layer), as `docker commit` makes one — the base's layers and blobs
// kept, one new layer, the config the caller gives (the container's), `--change`s applied,
// a history entry with the author and message.
import { MediaType, type Digest, type ImageConfig, type Manifest } from "@tbuild/oci";
import { Store } from "@tbuild/cache";
import { commitImage } from "../image-state/commit-image.js";
import { chainsOf, commitLayerDraft } from "../image-state/layers.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";
import { applyChange } from "./import-rootfs.js";
import { execFileAsync } from "../util/exec-file.js";

export interface CommitDiffOptions {
  root: string;
  /** The base image: its manifest (layers as they are stored) and config. */
  baseManifest: Digest;
  /** The diff, in overlay-upper format (whiteouts as 0/0 devices, opaque xattrs); copied, not moved. */
  diffDir: string;
  /** Set on the base's runnable config (Env, Cmd, Entrypoint, WorkingDir, User, Labels …). */
  config: NonNullable<ImageConfig["config"]>;
  changes?: string[];
  author?: string;
  message?: string;
  /** History's created_by (docker: the container's command). */
  createdBy: string;
  /** A name to store the image under; none leaves it unnamed (found by ID). */
  ref?: string;
}

export interface CommitDiffResult {
  imageId: Digest;
  manifestDigest: Digest;
  name?: string;
}

export async function commitDiff(opts: CommitDiffOptions): Promise<CommitDiffResult> {
  const store = await Store.open(opts.root);
  try {
    const lease = await store.lease();
    const protect = (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => lease.add(refs, { pending: true });
    const manifest = JSON.parse((await store.readBlob(opts.baseManifest)).toString("utf8")) as Manifest;
    const base = JSON.parse((await store.readBlob(manifest.config.digest)).toString("utf8")) as ImageConfig;
    await protect({ blobs: [opts.baseManifest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)] });
    const chains = chainsOf(base.rootfs.diff_ids);
    const draft = await store.prepareSnapshot();
    let layer;
    try {
      await execFileAsync("cp", ["-a", "--reflink=auto", "--no-target-directory", "--", opts.diffDir, draft.path]);
      layer = await commitLayerDraft(store, draft, chains[chains.length - 1], undefined, protect);
    } catch (e) {
      await store.abortSnapshot(draft).catch(() => {});
      throw e;
    }
    const now = new Date().toISOString();
    const sizes = await Promise.all(base.rootfs.diff_ids.map(async (d) => (await store.getLayer(d))?.size ?? 0));
    let state: ImageState = {
      config: {
        ...structuredClone(base),
        config: { ...structuredClone(base.config ?? {}), ...structuredClone(opts.config) },
        rootfs: { type: "layers", diff_ids: [...base.rootfs.diff_ids, layer.diffID] },
        history: [...(base.history ?? []), { created: now, created_by: opts.createdBy, ...(opts.author ? { author: opts.author } : {}), ...(opts.message ? { comment: opts.message } : {}) }],
        ...(opts.author ? { author: opts.author } : {}),
      },
      layers: [...base.rootfs.diff_ids.map((diffID, i) => ({ diffID, size: sizes[i]!, blob: manifest.layers[i]! })), { diffID: layer.diffID, size: layer.size }],
      fsKey: layer.chainID,
      cmdSet: false,
      created: now,
    };
    const history = state.config.history;
    for (const change of opts.changes ?? []) state = applyChange(state, change);
    // As docker commit: the changes are part of the one new history entry, not entries of their own.
    state = { ...state, config: { ...state.config, history } };
    const image = await commitImage(store, state, undefined, protect);
    let name: string | undefined;
    if (opts.ref) {
      name = normalizeImageName(opts.ref);
      await store.putImage(name, { manifest: image.manifestDigest, mediaType: MediaType.ociManifest });
    }
    await lease.release();
    return { imageId: image.configDigest, manifestDigest: image.manifestDigest, ...(name ? { name } : {}) };
  } finally {
    await store.close();
  }
}
