// `tbuild save REF… -o FILE [--format oci|docker]`: images of the local store as an
// OCI archive (default; skopeo, umoci and podman read it) or a docker-archive. The
// stored manifests are written unchanged, so `tbuild load` gives back the same digests.
// A multi-platform image is saved as its index (OCI), or one platform of it with --platform.

import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { storedImagesBlobSource } from "@tbuild/builder/transfer";
import { writeDockerArchive, writeOciArchive, type ExportImage, type ExportRoot } from "@tbuild/oci";
import { CommandError } from "../errors.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { indexChildren, resolveImage, type StoredImage } from "../images/stored-image.js";
import { parsePlatform } from "../options/platform.js";

interface SaveFlags extends StoreFlags {
  output: string;
  format: "oci" | "docker";
  platform?: string;
}

export default async function saveAction(cmd: Command): Promise<number> {
  const [refs] = cmd.processedArgs as [string[]];
  const f = cmd.optsWithGlobals<SaveFlags>();
  const dest = resolve(f.output);
  const platform = f.platform === undefined ? undefined : parsePlatform(f.platform);
  await withStore(f, async (store) => {
    const images: StoredImage[] = [];
    const names: string[][] = [];
    for (const ref of refs) {
      const img = await resolveImage(store, ref, platform);
      images.push(img);
      // Saved under the name asked for, as docker save does; an ID saves every name of the image.
      names.push(img.matchedName !== undefined ? [img.matchedName] : img.names);
    }
    if (f.format === "docker") {
      const multi = images.find((i) => i.index);
      if (multi && platform === undefined) throw new CommandError(`docker-archive holds single-platform images; ${multi.names[0] ?? multi.digest} is a multi-platform index (use --format oci, or pick one with --platform)`);
    }
    // Without --platform an index is saved whole: every manifest it lists, with their blobs.
    const whole = await Promise.all(
      images.map((img) => (img.index && platform === undefined ? indexChildren(store, img).catch((e: Error) => Promise.reject(new CommandError(`${e.message}; save one with --platform`))) : [img])),
    );
    const source = storedImagesBlobSource(store, whole.flat());
    const roots: ExportRoot[] = images.map((img, i) =>
      img.index && platform === undefined
        ? { index: img.index.index, indexBytes: img.index.bytes, names: names[i]! }
        : {
            manifest: img.manifest,
            manifestBytes: img.manifestBytes,
            names: names[i]!,
            platform: { os: img.config.os, architecture: img.config.architecture, ...(img.config.variant ? { variant: img.config.variant } : {}) },
          },
    );
    await mkdir(dirname(dest), { recursive: true });
    const part = `${dest}.tbuild-${process.pid}.partial`;
    try {
      const out = createWriteStream(part);
      const closed = new Promise<void>((res, rej) => { out.on("close", res); out.on("error", rej); });
      // (a docker archive never gets an index: refused above)
      if (f.format === "docker") await writeDockerArchive(out, roots as ExportImage[], source);
      else await writeOciArchive(out, roots, source);
      await closed;
      await rename(part, dest);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
  });
  return 0;
}
