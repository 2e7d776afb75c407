// Writes a finished image to every output the caller asked for (default: the local
// store under the given tags).
import { createWriteStream, promises as fsp } from "node:fs";
import path from "node:path";
import { unpackLayer, writeLayer } from "@tbuild/oci";
import type { OutputSpec } from "../api-types.js";
import type { CommittedImage } from "../image/commit-image.js";
import { normalizeImageName } from "../image/names.js";
import type { ImageState } from "../image/state.js";
import type { BuildSession } from "../solve/session.js";
import { layerSources, openUncompressed } from "./layer-blobs.js";
import { writeArchiveOutput, pushOutput, withDestination } from "./archives.js";

export async function writeOutputs(session: BuildSession, state: ImageState, image: CommittedImage): Promise<void> {
  const outputs: OutputSpec[] = session.opts.outputs?.length ? session.opts.outputs : [{ type: "store" }];
  const tags = session.opts.tags ?? [];
  for (const out of outputs) {
    session.throwIfAborted();
    switch (out.type) {
      case "store":
        for (const t of tags) await session.store.putImage(normalizeImageName(t), { manifest: image.manifestDigest, mediaType: image.manifest.mediaType });
        break;
      case "local":
        await flattenInto(session, state, out.dest);
        break;
      case "tar":
        await flattenToTar(session, state, out.dest);
        break;
      case "oci":
      case "docker":
      case "oci-layout":
        await writeArchiveOutput(session, state, image, out);
        break;
      case "registry":
        await pushOutput(session, state, image, out);
        break;
    }
    session.emit({ type: "export", output: out, digest: image.configDigest, time: Date.now() });
  }
}

/** The image's root filesystem as a plain directory (layers applied, whiteouts honoured). */
async function flattenInto(session: BuildSession, state: ImageState, dest: string): Promise<void> {
  try {
    await fsp.mkdir(dest, { recursive: true });
    for (const layer of await layerSources(session.store, state)) {
      await unpackLayer(openUncompressed(session.store, layer), dest, { whiteouts: "apply", expectedDiffID: layer.diffID, rootedSymlinks: true });
    }
  } catch (e) {
    throw withDestination(e, dest);
  }
}

async function flattenToTar(session: BuildSession, state: ImageState, dest: string): Promise<void> {
  const tmp = await session.store.tempDir("flatten");
  try {
    await flattenInto(session, state, path.join(tmp, "rootfs"));
    const part = `${dest}.tbuild-${process.pid}.partial`;
    try {
      await writeLayer({ kind: "dir", dir: path.join(tmp, "rootfs") }, createWriteStream(part), { sourceDateEpoch: session.sourceDateEpoch });
      await fsp.rename(part, dest);
    } catch (e) {
      await fsp.rm(part, { force: true });
      throw withDestination(e, dest);
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
