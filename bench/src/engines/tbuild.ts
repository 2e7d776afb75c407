// tbuild as measured: the `tbuild` command (tbuild-cli.ts), a fresh store root on
// /dev/shm per cold run holding only the base image (pulled before the timed build, as
// BuildKit's cold builds have it: see reset), `--progress rawjson` so the harness can split
// each build into start-up, solve and exit phases from the event timestamps.

import { rmSync } from "node:fs";
import path from "node:path";
import { runOk } from "../proc.js";
import { tbuildArgv, tbuildMode } from "../tbuild-cli.js";
import { warmPoolSettled } from "../warm-pool.js";
import type { Workload } from "../workloads.js";
import type { Command, Engine } from "./engine.js";

export class TbuildEngine implements Engine {
  readonly name = "tbuild";
  readonly exportNote = "tbuild save (oci-archive, layers as stored: uncompressed tar)";
  readonly #storesDir: string;
  readonly #log: string;
  readonly #baseRef: string;

  constructor(storesDir: string, log: string, baseRef: string) {
    this.#storesDir = storesDir;
    this.#log = log;
    this.#baseRef = baseRef;
  }

  /** The store root used for a workload. */
  root(wl: Workload): string {
    return path.join(this.#storesDir, `tbuild-${wl.name}`);
  }

  describe(): string {
    return `${tbuildMode()} (node ${process.version}): build --progress rawjson -t bench/WL:latest -f DIR/Dockerfile DIR, store on ${this.#storesDir}`;
  }

  settle(): Promise<void> {
    return warmPoolSettled();
  }

  /**
   * An empty store but for the base image. BuildKit's cold build (build cache pruned, our
   * images removed) keeps a pulled base in Docker's layer store: its log shows only the
   * manifest and config fetched, no layer downloaded or extracted. So the same here: the base
   * is pulled untimed, and the cold build resolves it without a transfer.
   */
  async reset(wl: Workload): Promise<void> {
    rmSync(this.root(wl), { recursive: true, force: true });
    await runOk(tbuildArgv(this.root(wl), ["pull", "-q", this.#baseRef]), { log: this.#log });
  }

  #argv(wl: Workload, args: string[]): string[] {
    return tbuildArgv(this.root(wl), args);
  }

  build(wl: Workload): Command {
    return { argv: this.#argv(wl, ["build", "--progress", "rawjson", "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir]) };
  }

  exportArchive(wl: Workload, dest: string): Command {
    return { argv: this.#argv(wl, ["save", "-o", dest, `bench/${wl.name}:latest`]) };
  }

  exportBuildOci(wl: Workload, dest: string): Command {
    return {
      argv: this.#argv(wl, ["build", "--progress", "rawjson", "-o", `type=oci,dest=${dest}`, "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir]),
    };
  }

  async preparePush(wl: Workload, ref: string): Promise<void> {
    await runOk(tbuildArgv(this.root(wl), ["tag", `bench/${wl.name}:latest`, ref]), { log: this.#log });
  }

  push(wl: Workload, ref: string): Command {
    return { argv: this.#argv(wl, ["push", ref]) };
  }

  /** Runner A: the same build again (all cached) exporting every stage's cache; then an empty store. */
  async prepareRemoteCache(wl: Workload, ref: string): Promise<void> {
    await runOk(this.#argv(wl, ["build", "--progress", "plain", "--cache-to", `type=registry,ref=${ref},mode=max`, "-f", wl.dockerfile, wl.dir]), { log: this.#log });
    await this.reset(wl);
  }

  /** Runner B: an empty store importing that cache. */
  buildFromRemoteCache(wl: Workload, ref: string): Command {
    return { argv: this.#argv(wl, ["build", "--progress", "rawjson", "--cache-from", ref, "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir]) };
  }

  async cleanup(wl: Workload): Promise<void> {
    rmSync(this.root(wl), { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}
