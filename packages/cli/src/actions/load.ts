// `tbuild load -i FILE`: images from an oci-archive or a docker-archive (told apart by
// their content) into the local store, every blob verified, names recorded.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Store } from "@tbuild/cache";
import {
  type BlobSource,
  type Digest,
  type ImageSet,
  isOciError,
  type LoadedImage,
  parseReference,
  readDockerArchive,
  readOciArchive,
  type ResolvedManifest,
} from "@tbuild/oci";
import { CommandError, UsageError } from "../errors.js";
import { familiarName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";

interface LoadFlags extends StoreFlags {
  input: string;
  quiet?: boolean;
}

export default async function loadAction(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<LoadFlags>();
  const file = resolve(f.input);
  if (!existsSync(file)) throw new UsageError(`input file ${f.input} not found`);
  const set = await readArchive(file, f.input);
  if (set.images.length === 0) throw new CommandError(`${f.input} holds no images`);
  const lines = await withStore(f, async (store) => {
    const out: string[] = [];
    for (const img of set.images) {
      const digest = await ingest(store, img, set.blobs);
      const name = nameOf(img);
      if (name) {
        await store.putImage(name, { manifest: digest, ...(img.descriptor.mediaType ? { mediaType: img.descriptor.mediaType } : {}) });
        out.push(`Loaded image: ${familiarName(name)}`);
      } else {
        out.push(`Loaded image: ${digest} (the archive gives it no name: name it with 'tbuild tag ${digest} NAME' before the next prune)`);
      }
    }
    return out;
  });
  for (const l of lines) process.stdout.write(`${f.quiet ? l.replace(/^Loaded image: /, "").replace(/ \(.*$/, "") : l}\n`);
  return 0;
}

/** Reads `file` as an oci-archive, else as a docker-archive. */
async function readArchive(file: string, shown: string): Promise<ImageSet> {
  try {
    return await readOciArchive(file);
  } catch (ociErr) {
    if (!isOciError(ociErr, "NOT_FOUND") && !isOciError(ociErr, "INVALID_FORMAT")) throw ociErr;
    try {
      return await readDockerArchive(file);
    } catch (dockerErr) {
      if (isOciError(dockerErr, "INVALID_FORMAT") || isOciError(dockerErr, "NOT_FOUND")) {
        throw new CommandError(
          `${shown} is neither an oci-archive nor a docker-archive (as oci-archive: ${(ociErr as Error).message} As docker-archive: ${(dockerErr as Error).message})`,
        );
      }
      throw dockerErr;
    }
  }
}

/** The name to record: the full image name, or an OCI ref name that is a full reference. */
function nameOf(img: LoadedImage): string | undefined {
  for (const candidate of [img.name, img.refName]) {
    if (!candidate) continue;
    if (candidate === img.refName && !/[:/]/.test(candidate)) continue; // a bare tag names no repository
    try {
      return parseReference(candidate).toString();
    } catch {
      /* not a reference */
    }
  }
  return undefined;
}

/** Stores an entry's blobs (every platform of an index) and returns the digest its name points at. */
async function ingest(store: Store, img: LoadedImage, blobs: BlobSource): Promise<Digest> {
  for (const m of img.manifests) await ingestManifest(store, m, blobs);
  if (img.indexBytes) return (await store.putBlob(img.indexBytes, { digest: img.descriptor.digest })).digest;
  return img.manifests[0]!.descriptor.digest;
}

async function ingestManifest(store: Store, m: ResolvedManifest, blobs: BlobSource): Promise<void> {
  for (const layer of m.manifest.layers) {
    if (await store.hasBlob(layer.digest)) continue;
    await store.putBlob(await blobs.open(layer.digest), { digest: layer.digest, size: layer.size });
  }
  await store.putBlob(m.configBytes, { digest: m.manifest.config.digest });
  await store.putBlob(m.manifestBytes, { digest: m.descriptor.digest });
}
