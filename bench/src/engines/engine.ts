// What the harness needs from a build engine (tbuild or a peer): commands for each
// measured figure, and untimed storage resets between runs.

import type { Workload } from "../workloads.js";

/** A command line to time, with its environment. */
export interface Command {
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Engine {
  /** Short name used in tables and the TSV: tbuild, buildah, buildkit. */
  readonly name: string;
  /** Version and flags, for the report header. */
  describe(): string;
  /** How this engine's export figure is made (format, compression). */
  readonly exportNote: string;
  /** Empties the engine's storage so the next build is cold (not timed). */
  reset(wl: Workload): Promise<void>;
  /** The build of a workload, tagged bench/<name>:latest. */
  build(wl: Workload): Command;
  /** Export of the built image to an archive at `dest`. */
  exportArchive(wl: Workload, dest: string): Command;
  /** Engine-specific extra export figure (tbuild: `build -o type=oci` of a cached build). */
  exportBuildOci?(wl: Workload, dest: string): Command;
  /** Untimed: after the engine's sequence, waits until its background work is done (tbuild's warm workers loading). */
  settle?(): Promise<void>;
  /** Untimed preparation of a push (e.g. tagging), then the timed push. */
  preparePush(wl: Workload, ref: string): Promise<void>;
  push(wl: Workload, ref: string): Command;
  /**
   * "Fresh store, remote cache": untimed, export the built workload's cache to `ref` and
   * empty the storage; then the timed build that imports it.
   */
  prepareRemoteCache?(wl: Workload, ref: string): Promise<void>;
  buildFromRemoteCache?(wl: Workload, ref: string): Command;
  /** Frees what the last run left (storage, tags); called after each run and at exit. */
  cleanup(wl: Workload): Promise<void>;
  /** Stops whatever the engine started (daemons). */
  close(): Promise<void>;
}
