// `tbuild history REF`: one row per history entry, newest first, like `docker history`.

import type { Command } from "commander";
import type { Store } from "@tbuild/cache";
import type { Digest, HistoryEntry } from "@tbuild/oci";
import { UsageError } from "../errors.js";
import { humanSize, shortId, timeAgo } from "../format/human.js";
import { renderTable } from "../format/table.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { resolveImage, type StoredImage } from "../images/stored-image.js";

interface HistoryFlags extends StoreFlags {
  trunc: boolean;
  human: string;
  format: "table" | "json";
}

interface Row {
  id: string;
  created?: string;
  createdBy: string;
  size: number;
  comment: string;
}

export default async function historyAction(cmd: Command): Promise<number> {
  const [ref] = cmd.processedArgs as [string];
  const f = cmd.optsWithGlobals<HistoryFlags>();
  if (f.human !== "true" && f.human !== "false") throw new UsageError(`--human: ${JSON.stringify(f.human)} is not true or false`);
  const human = f.human === "true";
  const rows = await withStore(f, async (store) => historyRows(store, await resolveImage(store, ref)));
  if (f.format === "json") {
    for (const r of rows) {
      process.stdout.write(`${JSON.stringify({ ID: r.id, CreatedAt: r.created ?? null, CreatedBy: r.createdBy, Size: r.size, Comment: r.comment })}\n`);
    }
    return 0;
  }
  const now = Date.now();
  const createdBy = (s: string) => (f.trunc && [...s].length > 45 ? `${[...s].slice(0, 44).join("")}…` : s);
  process.stdout.write(renderTable(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows.map((r) => [
    r.id === "<missing>" || !f.trunc ? r.id : shortId(r.id),
    human ? timeAgo(r.created, now) : (r.created ?? ""),
    createdBy(r.createdBy),
    human ? humanSize(r.size) : String(r.size),
    r.comment,
  ])));
  return 0;
}

/** History entries newest first, each non-empty one matched with its layer's size. */
async function historyRows(store: Store, img: StoredImage): Promise<Row[]> {
  const diffIDs = img.config.rootfs.diff_ids;
  const sizes = await Promise.all(diffIDs.map((d, i) => layerSize(store, d, img.manifest.layers[i]?.size ?? 0)));
  const history: HistoryEntry[] = img.config.history?.length
    ? img.config.history
    : diffIDs.map(() => ({ created: img.config.created, created_by: "", empty_layer: false }));
  let layer = 0;
  const rows: Row[] = history.map((h) => {
    const size = h.empty_layer ? 0 : (sizes[layer++] ?? 0);
    return { id: "<missing>", created: h.created, createdBy: (h.created_by ?? "").replace(/\s+/g, " "), size, comment: h.comment ?? "" };
  });
  rows.reverse();
  if (rows[0]) rows[0].id = img.configDigest;
  return rows;
}

/** The diffID of an empty tar (1024 zero bytes), which RUN steps that change nothing produce. */
const EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

async function layerSize(store: Store, diffID: Digest, fallback: number): Promise<number> {
  if (diffID === EMPTY_LAYER) return 0; // docker shows such layers as 0B

  const rec = await store.getLayer(diffID).catch(() => undefined);
  return rec?.size ?? fallback;
}
