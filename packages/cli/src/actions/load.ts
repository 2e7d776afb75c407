// `tbuild load -i FILE`: images from an oci-archive or a docker-archive (told apart by
// their content) into the local store, every blob verified, names recorded.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ingestImage } from "@tbuild/builder/transfer";
import type { Store } from "@tbuild/cache";
import {
  type Digest,
  type ImageSet,
  isOciError,
  type LoadedImage,
  parseReference,
  readDockerArchive,
  readOciArchive,
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
      const digest = await ingestImage(store, img, set.blobs);
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
