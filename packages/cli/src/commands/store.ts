// Commands about the store as a whole: disk usage and pruning.

import { type Command, Option } from "commander";
import { collect, lazyAction } from "../program-kit.js";

/** Declares du and prune. */
export function defineStoreCommands(program: Command): void {
  lazyAction(
    program
      .command("du")
      .description("show disk usage of the store: images, layers, cache")
      .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
      .option("-v, --verbose", "also list every blob and snapshot"),
    () => import("../actions/du.js"),
  );
  lazyAction(
    program
      .command("prune")
      .description("remove build cache and unreferenced data")
      .option("-f, --force", "do not ask for confirmation")
      .option("-a, --all", "also remove images that no tag refers to, and all cache (not only unused)")
      .option("--keep-storage <size>", "keep this much cache (e.g. 10GB), removing least recently used first")
      .option("--filter <filter>", "only prune entries matching: until=DURATION (e.g. until=24h); repeatable", collect),
    () => import("../actions/prune.js"),
  );
}
