// `tbuild images`: the named images in the local store, like `docker images`.

import type { Command } from "commander";
import { formatPlatform } from "@tbuild/oci";
import { humanSize, shortId, timeAgo } from "../format/human.js";
import { renderTable } from "../format/table.js";
import { familiarParts, normalizeName } from "../images/image-ref.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { listStoredImages } from "../images/stored-image.js";

interface ImagesFlags extends StoreFlags {
  format: "table" | "json";
  quiet?: boolean;
  trunc: boolean;
  digests?: boolean;
}

export default async function imagesAction(cmd: Command): Promise<number> {
  const [repoFilter] = cmd.processedArgs as [string | undefined];
  const f = cmd.optsWithGlobals<ImagesFlags>();
  const wanted = repoFilter === undefined ? undefined : familiarParts(normalizeName(repoFilter, "repository")).repository;
  const rows = await withStore(f, async (store) => {
    const all = await listStoredImages(store);
    return all
      .map(({ record, image }) => ({ ...familiarParts(record.name), record, image }))
      .filter((r) => wanted === undefined || r.repository === wanted)
      .sort((a, b) => (b.image.config.created ?? "").localeCompare(a.image.config.created ?? "") || a.record.name.localeCompare(b.record.name));
  });
  const id = (d: string) => (f.trunc ? shortId(d) : d);
  if (f.quiet) {
    const ids = [...new Set(rows.map((r) => id(r.image.configDigest)))];
    process.stdout.write(ids.map((i) => `${i}\n`).join(""));
    return 0;
  }
  if (f.format === "json") {
    for (const r of rows) {
      process.stdout.write(`${JSON.stringify({
        Repository: r.repository,
        Tag: r.tag,
        Name: r.record.name,
        ID: r.image.configDigest,
        Digest: r.image.manifestDigest,
        CreatedAt: r.image.config.created ?? null,
        CreatedSince: timeAgo(r.image.config.created),
        Size: r.image.size,
        ...(r.image.index ? { Platforms: r.image.index.manifests.map((m) => (m.descriptor.platform ? formatPlatform(m.descriptor.platform) : "unknown")) } : {}),
      })}\n`);
    }
    return 0;
  }
  const headers = ["REPOSITORY", "TAG", ...(f.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
  const now = Date.now();
  process.stdout.write(renderTable(headers, rows.map((r) => [
    r.repository,
    r.tag,
    ...(f.digests ? [r.image.manifestDigest] : []),
    id(r.image.configDigest),
    timeAgo(r.image.config.created, now),
    humanSize(r.image.size),
  ])));
  return 0;
}
