// `tbuild du`: what the store uses on disk, by kind, and what pruning could free.

import type { Command } from "commander";
import { humanSize } from "../format/human.js";
import { renderTable } from "../format/table.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { graceNote } from "../report/grace-note.js";

interface DuFlags extends StoreFlags {
  format: "table" | "json";
  verbose?: boolean;
}

export default async function duAction(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<DuFlags>();
  const usage = await withStore(f, (store) => store.du({ items: f.verbose === true }));
  if (f.format === "json") {
    process.stdout.write(`${JSON.stringify(usage, null, 2)}\n`);
    return 0;
  }
  const row = (name: string, u: { count: number; size: number; shared: number; exclusive: number; unreferenced: number }) =>
    [name, String(u.count), humanSize(u.size), humanSize(u.shared), humanSize(u.exclusive), humanSize(u.unreferenced)];
  process.stdout.write(renderTable(
    ["TYPE", "COUNT", "SIZE", "SHARED", "EXCLUSIVE", "UNREFERENCED"],
    [
      row("Blobs", usage.blobs),
      row("Snapshots", usage.snapshots),
      ["Cache records", String(usage.index.count), humanSize(usage.index.size), "", "", ""],
      ["Images (tags)", String(usage.images), "", "", "", ""],
    ],
  ));
  process.stdout.write(`\nTotal:        ${humanSize(usage.total)}\nReclaimable:  ${humanSize(usage.reclaimable)} (tbuild prune --all)\n`);
  const note = graceNote(usage.heldBack);
  if (note) process.stdout.write(`\n${note}`);
  if (usage.items) {
    // Verbose (docker buildx du --verbose): every blob and snapshot, largest first.
    const items = [...usage.items].sort((a, b) => b.size - a.size || a.digest.localeCompare(b.digest));
    const rows = items.map((i) => [i.digest.slice(0, 19), i.kind, humanSize(i.size), i.state, i.fresh ? "yes" : ""]);
    process.stdout.write(`\n${renderTable(["ID", "TYPE", "SIZE", "STATE", "IN GRACE PERIOD"], rows)}`);
  }
  return 0;
}
