// Writes a finished image to every output the caller asked for (default: the local
// store under the given tags).
import { promises as fsp } from "node:fs";
import path from "node:path";
import { unpackLayer, writeLayer } from "@tbuild/oci";
import type { OutputResult, OutputSpec } from "../api-types.js";
import type { CommittedImage } from "../image-state/commit-image.js";
import { normalizeImageName } from "../image-state/names.js";
import type { ImageState } from "../image-state/state.js";
import type { BuildSession } from "../solve/session.js";
import { layerSources, openUncompressed } from "./layer-blobs.js";
import { writeArchiveOutput, pushOutput, withDestination } from "./archives.js";

/** Writes every output in order; returns what each received (also sent as `export` events). */
export async function writeOutputs(session: BuildSession, state: ImageState, image: CommittedImage): Promise<OutputResult[]> {
  const outputs: OutputSpec[] = session.opts.outputs?.length ? session.opts.outputs : [{ type: "store" }];
  const results: OutputResult[] = [];
  for (const out of outputs) {
    session.throwIfAborted();
    const result = await writeOutput(session, state, image, out);
    results.push(result);
    session.emit({ type: "export", output: out, digest: image.configDigest, result, time: Date.now() });
  }
  return results;
}

async function writeOutput(session: BuildSession, state: ImageState, image: CommittedImage, out: OutputSpec): Promise<OutputResult> {
  // Layers of imported-cache hits are fetched for an output that needs their bytes (a
  // push mounts or fetches them itself); a store image that gets a name must be whole.
  const needsBytes = out.type === "store" ? (session.opts.tags?.length ?? 0) > 0 : out.type !== "registry";
  if (needsBytes) await session.lazy.ensureBlobs(state);
  switch (out.type) {
    case "store": {
      const names = (session.opts.tags ?? []).map(normalizeImageName);
      for (const name of names) await session.store.putImage(name, { manifest: image.manifestDigest, mediaType: image.manifest.mediaType });
      return { type: "store", names, manifestDigest: image.manifestDigest, mediaType: image.manifest.mediaType };
    }
    case "local":
      await flattenInto(session, state, out.dest);
      return { type: "local", dest: out.dest };
    case "tar":
      await flattenToTar(session, state, out.dest);
      return { type: "tar", dest: out.dest };
    case "oci":
    case "docker":
    case "oci-layout":
      return writeArchiveOutput(session, state, image, out);
    case "registry":
      return pushOutput(session, state, image, out);
  }
}

/** The image's root filesystem as a plain directory (layers applied, whiteouts honoured). */
export async function flattenInto(session: BuildSession, state: ImageState, dest: string): Promise<void> {
  try {
    await fsp.mkdir(dest, { recursive: true });
    for (const layer of await layerSources(session.store, state)) {
      await unpackLayer(openUncompressed(session.store, layer), dest, { whiteouts: "apply", expectedDiffID: layer.diffID, rootedSymlinks: true });
    }
  } catch (e) {
    throw withDestination(e, dest);
  }
}

/**
 * One platform's directory of a multi-platform local or tar output, as BuildKit writes it:
 * its exporters serve each platform through fsutil's SubDirFS, which moves an absolute symlink
 * target under the platform's directory (fsutil fs.go, subDirFS.Walk: path.Join("/"+dir,
 * target)), so /bin/sh → /bin/busybox is written as → /linux_arm64/bin/busybox.
 */
export async function flattenIntoPlatformDir(session: BuildSession, state: ImageState, root: string, dir: string): Promise<void> {
  const dest = path.join(root, dir);
  await flattenInto(session, state, dest);
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) {
        const target = await fsp.readlink(p);
        if (!target.startsWith("/")) continue;
        let moved = path.posix.join(`/${dir}`, target);
        if (moved.length > 1 && moved.endsWith("/")) moved = moved.slice(0, -1); // Go's path.Join cleans
        const st = await fsp.lstat(p);
        await fsp.unlink(p);
        await fsp.symlink(moved, p);
        await fsp.lchown(p, st.uid, st.gid).catch(() => {});
        await fsp.lutimes(p, st.atime, st.mtime);
      }
    }
  };
  await walk(dest);
}

/** The root filesystem as a tar; `states` by directory name makes one directory per entry (a multi-platform build). */
export async function flattenToTar(session: BuildSession, state: ImageState | Map<string, ImageState>, dest: string): Promise<void> {
  const tmp = await session.store.tempDir("flatten");
  try {
    if (state instanceof Map) for (const [dir, s] of state) await flattenIntoPlatformDir(session, s, path.join(tmp, "rootfs"), dir);
    else await flattenInto(session, state, path.join(tmp, "rootfs"));
    const part = `${dest}.tbuild-${process.pid}.partial`;
    try {
      // Opened first: an unwritable destination rejects here, not as an unheard stream error.
      const fh = await fsp.open(part, "w");
      await writeLayer({ kind: "dir", dir: path.join(tmp, "rootfs") }, fh.createWriteStream(), { sourceDateEpoch: session.sourceDateEpoch });
      await fsp.rename(part, dest);
    } catch (e) {
      await fsp.rm(part, { force: true });
      throw withDestination(e, dest);
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
