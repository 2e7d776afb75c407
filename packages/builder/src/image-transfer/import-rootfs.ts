// `tbuild import ROOTFS.tar REF`: a base image from a root filesystem tarball, as
// `docker import` makes one — one layer (the tar itself, decompressed), a default config
// with PATH, optional Dockerfile-style changes (`CMD ["sh"]`, `ENV A=1` …).
import { createReadStream, promises as fsp } from "node:fs";
import path from "node:path";
import { MediaType, unpackLayer, type Digest } from "@tbuild/oci";
import { pipeline } from "node:stream/promises";
import { Store } from "@tbuild/cache";
import { defaultPlatform, parseInstructionLine, parsePlatform } from "@tbuild/parser";
import * as ops from "../image-state/config-ops.js";
import { emptyState, type ImageState } from "../image-state/state.js";
import { normalizeImageName } from "../image-state/names.js";
import { commitImage } from "../image-state/commit-image.js";
import { createDecompressor, detectCompression } from "@tbuild/oci";
import { recordXattrs } from "../fs/xattr-sidecar.js";

export interface ImportOptions {
  /** Root filesystem tarball (plain, gzip or zstd). */
  tarPath: string;
  /** Name to store the image under, e.g. `busybox:latest`. */
  ref: string;
  /** Dockerfile instructions applied to the config: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD. */
  changes?: string[];
  platform?: string;
  root?: string;
  /** History comment; default `Imported from <file name>`. */
  message?: string;
}

export interface ImportResult {
  imageId: Digest;
  manifestDigest: Digest;
  name: string;
}

/** Imports a rootfs tarball as a one-layer image into the local store. */
export async function importRootfs(opts: ImportOptions): Promise<ImportResult> {
  const store = await Store.open(opts.root);
  try {
    const platform = opts.platform ? parsePlatform(opts.platform) : defaultPlatform();
    // Leased before each item appears, until the name points at the image.
    const lease = await store.lease();
    const protect = (refs: { blobs?: Digest[]; snapshots?: Digest[] }) => lease.add(refs, { pending: true });
    const head = await readHead(opts.tarPath);
    const compression = detectCompression(head);
    const input = createReadStream(opts.tarPath);
    const writer = await store.blobWriter();
    await pipeline(compression === "none" ? input : input.pipe(createDecompressor(compression)), writer);
    const blob = await writer.commit(undefined, { beforeRename: (d) => protect({ blobs: [d], snapshots: [d] }) });
    const diffID = blob.digest;
    const draft = await store.prepareSnapshot();
    try {
      await unpackLayer(store.openBlob(diffID), draft.path, { whiteouts: "overlay", expectedDiffID: diffID, rootedSymlinks: true });
      await store.putLayer(diffID, blob.size);
      await recordXattrs(draft); // so no later use of this layer needs getfattr
      await store.commitSnapshot(draft, diffID, { diffID, size: blob.size });
    } catch (e) {
      await store.abortSnapshot(draft).catch(() => {});
      throw e;
    }
    const now = new Date().toISOString();
    let state: ImageState = emptyState(platform, now);
    for (const change of opts.changes ?? []) state = applyChange(state, change);
    state = {
      ...state,
      config: {
        ...state.config,
        rootfs: { type: "layers", diff_ids: [diffID] },
        history: [{ created: now, comment: opts.message ?? `Imported from ${path.basename(opts.tarPath)}` }],
      },
      layers: [{ diffID, size: blob.size }],
      fsKey: diffID,
    };
    const image = await commitImage(store, state, undefined, protect);
    const name = normalizeImageName(opts.ref);
    await store.putImage(name, { manifest: image.manifestDigest, mediaType: MediaType.ociManifest });
    await lease.release();
    return { imageId: image.configDigest, manifestDigest: image.manifestDigest, name };
  } finally {
    await store.close();
  }
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, "r").catch((e) => {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  });
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Applies one `--change` instruction to the config, as `docker import --change` does. */
export function applyChange(state: ImageState, text: string): ImageState {
  const inst = parseInstructionLine(text, { file: "--change" });
  const argv = (i: { form: "shell"; command: string } | { form: "exec"; command: string[] }) =>
    i.form === "exec" ? i.command : [...(state.config.config?.Shell ?? ["/bin/sh", "-c"]), i.command];
  switch (inst.kind) {
    case "cmd": return ops.applyCmd(state, argv(inst));
    case "entrypoint": return ops.applyEntrypoint(state, argv(inst));
    case "env": return ops.applyEnv(state, inst.pairs);
    case "label": return ops.applyLabel(state, inst.pairs);
    case "expose": return ops.applyExpose(state, inst.ports);
    case "user": return ops.applyUser(state, inst.user);
    case "volume": return ops.applyVolume(state, inst.paths);
    case "stopsignal": return ops.applyStopSignal(state, inst.signal);
    case "onbuild": return ops.applyOnbuild(state, inst.triggerText);
    case "workdir": {
      const n = ops.applyUser(state, state.config.config?.User ?? "");
      (n.config.config ??= {}).WorkingDir = path.posix.resolve(state.config.config?.WorkingDir || "/", inst.path);
      return n;
    }
    default:
      throw new Error(`--change does not accept ${inst.kind.toUpperCase()} (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)`);
  }
}
