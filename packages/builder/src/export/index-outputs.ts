// The outputs of a multi-platform build, as BuildKit writes them: the store, an OCI archive
// or layout and a push get the image index (each push also every manifest it lists);
// `local` and `tar` get one directory per platform (`linux_arm64/`); a docker archive
// cannot hold an index, so such a build refuses it before any step runs.
import path from "node:path";
import { MediaType, serializeDocument, writeOciArchive, writeOciLayout, type Descriptor, type Index } from "@tbuild/oci";
import type { OutputResult, OutputSpec } from "../api-types.js";
import type { CommittedIndex, PlatformImage } from "../image-state/commit-index.js";
import { normalizeImageName } from "../image-state/names.js";
import type { BuildSession } from "../solve/session.js";
import { BuildOptionError } from "../solve/errors.js";
import { exportableImage, withDestination, writeFileAtomically } from "./archives.js";
import { flattenIntoPlatformDir, flattenToTar } from "./outputs.js";
import { StoreBlobSource } from "./store-blobs.js";
import { pushIndex } from "../image-transfer/push.js";
import type { Platform } from "@tbuild/oci";

/** Refuses outputs that cannot hold several platforms (before anything is built). */
export function checkMultiPlatformOutputs(outputs: readonly OutputSpec[]): void {
  if (outputs.some((o) => o.type === "docker")) {
    throw new BuildOptionError(
      "outputs",
      "the docker exporter cannot export a multi-platform build: a docker archive holds no image index. Build one platform (--platform linux/amd64), or export type=oci or push type=registry.",
    );
  }
}

/** A platform as a directory name, as BuildKit's local and tar exporters name them: linux_arm_v7. */
export function platformDir(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x).join("_");
}

export async function writeIndexOutputs(session: BuildSession, images: PlatformImage[], index: CommittedIndex): Promise<OutputResult[]> {
  const outputs: OutputSpec[] = session.opts.outputs?.length ? session.opts.outputs : [{ type: "store" }];
  const results: OutputResult[] = [];
  for (const out of outputs) {
    session.throwIfAborted();
    const result = await writeIndexOutput(session, images, index, out);
    results.push(result);
    session.emit({ type: "export", output: out, digest: index.digest, result, time: Date.now() });
  }
  return results;
}

async function writeIndexOutput(session: BuildSession, images: PlatformImage[], index: CommittedIndex, out: OutputSpec): Promise<OutputResult> {
  const names = (session.opts.tags ?? []).map(normalizeImageName);
  switch (out.type) {
    case "store":
      for (const name of names) await session.store.putImage(name, { manifest: index.digest, mediaType: MediaType.ociIndex });
      return { type: "store", names, manifestDigest: index.digest, mediaType: MediaType.ociIndex };
    case "local":
      for (const img of images) await flattenIntoPlatformDir(session, img.state, out.dest, platformDir(img.platform));
      return { type: "local", dest: out.dest };
    case "tar":
      await flattenToTar(session, new Map(images.map((img) => [platformDir(img.platform), img.state])), out.dest);
      return { type: "tar", dest: out.dest };
    case "oci":
    case "oci-layout":
    case "registry": {
      const compression = out.type === "oci" ? (out.compression ?? "gzip") : "gzip";
      const source = new StoreBlobSource(session.store);
      const manifests: Descriptor[] = [];
      for (const img of images) {
        const e = await exportableImage(session.store, img.state, img.image, compression, true, undefined, source);
        manifests.push({ mediaType: MediaType.ociManifest, digest: e.digest, size: e.manifestBytes.length, platform: img.platform });
      }
      const doc: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
      const bytes = Buffer.from(serializeDocument(doc).bytes);
      if (out.type === "registry") {
        const digest = await pushIndex(doc, bytes, source, out.name, {
          insecure: out.insecure, insecureRegistries: session.opts.insecureRegistries, signal: session.signal, store: session.store,
        });
        return { type: "registry", ref: normalizeImageName(out.name), manifestDigest: digest, mediaType: MediaType.ociIndex };
      }
      const root = { index: doc, indexBytes: bytes, names };
      if (out.type === "oci-layout") await writeOciLayout(out.dest, [root], source).catch((e: unknown) => Promise.reject(withDestination(e, out.dest)));
      else await writeFileAtomically(out.dest, (w) => writeOciArchive(w, [root], source));
      return { type: out.type, dest: out.dest, manifestDigest: serializeDocument(doc).digest, mediaType: MediaType.ociIndex };
    }
    case "docker":
      checkMultiPlatformOutputs([out]);
      throw new Error("internal: unreachable");
  }
}
