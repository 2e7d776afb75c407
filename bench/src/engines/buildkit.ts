// BuildKit as the peer scripts run it (bench-buildkit.sh): DOCKER_BUILDKIT=1 docker build
// --network none against dockerd 20.10; cold = build cache pruned and our images removed;
// export = `docker save` (uncompressed docker-archive: the docker driver has no oci
// exporter); push = docker tag + docker push (gzip).

import { run } from "../proc.js";
import type { Workload } from "../workloads.js";
import type { Command, Engine } from "./engine.js";
import { dockerBase, ensureDockerd, type DockerDaemon } from "./dockerd.js";

export class BuildkitEngine implements Engine {
  readonly name = "buildkit";
  readonly exportNote = "docker save (docker-archive, uncompressed)";
  readonly #daemon: DockerDaemon;
  readonly #registryHost: string;
  readonly #log: string;
  readonly #env: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: "1" };

  private constructor(daemon: DockerDaemon, registryHost: string, log: string) {
    this.#daemon = daemon;
    this.#registryHost = registryHost;
    this.#log = log;
  }

  /** The engine, or a reason it is unavailable (what to install). */
  static async create(dataRoot: string, registryHost: string, log: string): Promise<BuildkitEngine | string> {
    const d = await ensureDockerd(dataRoot, log);
    return typeof d === "string" ? d : new BuildkitEngine(d, registryHost, log);
  }

  describe(): string {
    return `dockerd ${this.#daemon.version} embedded BuildKit${this.#daemon.started ? " (started by the harness)" : " (already running)"}: DOCKER_BUILDKIT=1 ${dockerBase().join(" ")} build --network none -t bench/WL:latest -f DIR/Dockerfile DIR`;
  }

  async reset(wl: Workload): Promise<void> {
    await this.cleanup(wl);
    await run([...dockerBase(), "builder", "prune", "-af"], { env: this.#env, log: this.#log });
  }

  build(wl: Workload): Command {
    return { argv: [...dockerBase(), "build", "--network", "none", "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir], env: this.#env };
  }

  exportArchive(wl: Workload, dest: string): Command {
    return { argv: [...dockerBase(), "save", "-o", dest, `bench/${wl.name}:latest`], env: this.#env };
  }

  async preparePush(wl: Workload, ref: string): Promise<void> {
    await run([...dockerBase(), "tag", `bench/${wl.name}:latest`, ref], { env: this.#env, log: this.#log });
  }

  push(_wl: Workload, ref: string): Command {
    return { argv: [...dockerBase(), "push", ref], env: this.#env };
  }

  /**
   * BuildKit's remote-cache scenario (docker build with the docker driver): the image built
   * with inline cache metadata (BUILDKIT_INLINE_CACHE=1) and pushed; then build cache pruned
   * and our images removed.
   */
  async prepareRemoteCache(wl: Workload, ref: string): Promise<void> {
    await run([...dockerBase(), "build", "--network", "none", "--build-arg", "BUILDKIT_INLINE_CACHE=1", "-t", ref, "-f", wl.dockerfile, wl.dir], { env: this.#env, log: this.#log });
    await run([...dockerBase(), "push", ref], { env: this.#env, log: this.#log });
    await this.reset(wl);
  }

  buildFromRemoteCache(wl: Workload, ref: string): Command {
    return { argv: [...dockerBase(), "build", "--network", "none", "--cache-from", ref, "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir], env: this.#env };
  }

  /**
   * Removes the images this harness made (bench/* and tags on our registry), and the dangling
   * ones its rebuilds left when they took a name over (207 MB each for the 20,000-file
   * workloads: a few bench runs filled the peer's tmpfs, 12.8 GB, until the machine swapped).
   */
  async cleanup(_wl?: Workload): Promise<void> {
    const ls = await run([...dockerBase(), "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], { env: this.#env });
    const ours = ls.output
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("bench/") || l.startsWith(`${this.#registryHost}/`));
    if (ours.length > 0) await run([...dockerBase(), "rmi", "-f", ...ours], { env: this.#env, log: this.#log });
    await run([...dockerBase(), "image", "prune", "-f"], { env: this.#env, log: this.#log });
  }

  async close(): Promise<void> {
    await this.#daemon.stop();
  }
}
