// tbuild's remote backend as measured against BuildKit's own client: the tbuild CLI with
// `--builder docker://…` on the same dockerd 20.10 the `buildkit` engine uses (same
// daemon, same cache, same image store), so tbuild-remote/buildkit is the cost of tbuild's
// client (parse, convert to LLB, session, progress) against docker's. Storage resets, export
// (docker save) and push (docker push) are the daemon's, exactly as for the buildkit engine.
import { TBUILD_MAIN } from "../paths.js";
import type { Workload } from "../workloads.js";
import { BuildkitEngine } from "./buildkit.js";
import { DOCKER_SOCK } from "./dockerd.js";
import type { Command, Engine } from "./engine.js";

export class TbuildRemoteEngine implements Engine {
  readonly name = "tbuild-remote";
  readonly exportNote = "docker save (the image is in Docker's store, as for BuildKit)";
  readonly #daemon: BuildkitEngine;

  constructor(daemon: BuildkitEngine) {
    this.#daemon = daemon;
  }

  describe(): string {
    return `${TBUILD_MAIN} build --builder docker://unix://${DOCKER_SOCK} --network none --progress rawjson -t bench/WL:latest -f DIR/Dockerfile DIR (the buildkit engine's daemon)`;
  }

  reset(wl: Workload): Promise<void> {
    return this.#daemon.reset(wl);
  }

  build(wl: Workload): Command {
    return {
      argv: [process.execPath, TBUILD_MAIN, "build", "--builder", `docker://unix://${DOCKER_SOCK}`, "--network", "none", "--progress", "rawjson", "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir],
    };
  }

  exportArchive(wl: Workload, dest: string): Command {
    return this.#daemon.exportArchive(wl, dest);
  }

  preparePush(wl: Workload, ref: string): Promise<void> {
    return this.#daemon.preparePush(wl, ref);
  }

  push(wl: Workload, ref: string): Command {
    return this.#daemon.push(wl, ref);
  }

  cleanup(wl: Workload): Promise<void> {
    return this.#daemon.cleanup(wl);
  }

  async close(): Promise<void> {}
}
