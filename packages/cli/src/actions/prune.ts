// `tbuild prune`: removes build cache and unreferenced data. Tagged images and what
// they reference always stay. Asks for confirmation only on a terminal without -f.

import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { PruneOptions } from "@tbuild/cache";
import { UsageError } from "../errors.js";
import { humanSize } from "../format/human.js";
import { parseUntil } from "../options/duration.js";
import { parseSize } from "../options/size.js";
import { type StoreFlags, withStore } from "../images/open-store.js";
import { graceNote } from "../report/grace-note.js";

interface PruneFlags extends StoreFlags {
  force?: boolean;
  all?: boolean;
  keepStorage?: string;
  filter?: string[];
}

export default async function pruneAction(cmd: Command): Promise<number> {
  const f = cmd.optsWithGlobals<PruneFlags>();
  const opts = pruneOptions(f, Date.now());
  if (!f.force && process.stdin.isTTY && process.stderr.isTTY) {
    const what = f.all ? "all build cache" : opts.until !== undefined || opts.keepStorage !== undefined ? "the selected build cache" : "unused build data";
    if (!(await confirm(`WARNING! This will remove ${what}; tagged images stay.\nAre you sure you want to continue? [y/N] `))) {
      process.stderr.write("prune cancelled\n");
      return 0;
    }
  }
  const result = await withStore(f, (store) => store.prune(opts));
  process.stdout.write(
    `Deleted ${result.records.length} cache record${result.records.length === 1 ? "" : "s"}, ` +
    `${result.blobs.length} blob${result.blobs.length === 1 ? "" : "s"}, ` +
    `${result.snapshots.length} snapshot${result.snapshots.length === 1 ? "" : "s"}\n` +
    `Total reclaimed space: ${humanSize(result.reclaimed)}\n`,
  );
  process.stdout.write(graceNote(result.heldBack, `tbuild prune${f.all ? " --all" : ""} -f`));
  return 0;
}

/** Validates the flags into the store's PruneOptions. */
export function pruneOptions(f: PruneFlags, now: number): PruneOptions {
  const opts: PruneOptions = {};
  if (f.all) opts.all = true;
  if (f.keepStorage !== undefined) opts.keepStorage = parseSize(f.keepStorage, "--keep-storage");
  for (const filter of f.filter ?? []) {
    const eq = filter.indexOf("=");
    const key = eq === -1 ? filter : filter.slice(0, eq);
    if (key !== "until") throw new UsageError(`--filter: unsupported filter ${JSON.stringify(key)} (supported: until=DURATION)`);
    if (eq === -1 || filter.slice(eq + 1).trim() === "") throw new UsageError("--filter until= needs a duration, e.g. until=24h");
    opts.until = new Date(parseUntil(filter.slice(eq + 1), now));
  }
  return opts;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
