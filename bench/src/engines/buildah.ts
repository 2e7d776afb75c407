// buildah as the peer scripts run it (bench-buildah.sh, buildah-env.sh): overlay storage
// on /dev/shm, chroot isolation, --layers, --tls-verify=false, --jobs 1; export with
// `buildah push … oci-archive:` (gzip layers), push with `buildah push … docker://`.

import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { run } from "../proc.js";
import type { Workload } from "../workloads.js";
import type { Command, Engine } from "./engine.js";

export const BUILDAH_BIN = "/usr/bin/buildah";

export class BuildahEngine implements Engine {
  readonly name = "buildah";
  readonly exportNote = "buildah push oci-archive: (gzip)";
  readonly #root: string;
  readonly #store: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #log: string;
  #version = "buildah";

  private constructor(workDir: string, registryHost: string, log: string) {
    this.#root = path.join(workDir, "buildah-root");
    this.#store = ["--root", this.#root, "--runroot", `${this.#root}-run`, "--storage-driver", "overlay"];
    this.#log = log;
    mkdirSync(workDir, { recursive: true });
    const conf = path.join(workDir, "registries.conf");
    // Same content as buildah-env.sh writes, for our registry's port.
    writeFileSync(
      conf,
      [`unqualified-search-registries = ["${registryHost}"]`, `short-name-mode = "permissive"`, `[[registry]]`, `location = "${registryHost}"`, `insecure = true`, ``].join("\n"),
    );
    this.#env = { ...process.env, CONTAINERS_REGISTRIES_CONF: conf };
  }

  /** The engine, or a reason it is unavailable (what to install). */
  static async create(workDir: string, registryHost: string, log: string): Promise<BuildahEngine | string> {
    if (!existsSync(BUILDAH_BIN)) return "buildah not found: install it with `apt-get install buildah` (Debian 12: buildah 1.28)";
    const e = new BuildahEngine(workDir, registryHost, log);
    const v = await run([BUILDAH_BIN, "--version"]);
    if (v.code !== 0) return `buildah --version failed: ${v.output.trim()}`;
    e.#version = v.output.trim();
    return e;
  }

  describe(): string {
    return `${this.#version}: buildah ${this.#store.join(" ")} build --isolation chroot --layers --tls-verify=false --jobs 1 -t bench/WL:latest -f DIR/Dockerfile DIR`;
  }

  #cmd(args: string[]): Command {
    return { argv: [BUILDAH_BIN, ...this.#store, ...args], env: this.#env };
  }

  async reset(wl: Workload): Promise<void> {
    await this.cleanup(wl);
  }

  build(wl: Workload): Command {
    return this.#cmd(["build", "--isolation", "chroot", "--layers", "--tls-verify=false", "--jobs", "1", "-t", `bench/${wl.name}:latest`, "-f", wl.dockerfile, wl.dir]);
  }

  exportArchive(wl: Workload, dest: string): Command {
    return this.#cmd(["push", `bench/${wl.name}:latest`, `oci-archive:${dest}:latest`]);
  }

  async preparePush(): Promise<void> {}

  push(wl: Workload, ref: string): Command {
    return this.#cmd(["push", "--tls-verify=false", `bench/${wl.name}:latest`, `docker://${ref}`]);
  }

  async cleanup(_wl?: Workload): Promise<void> {
    if (existsSync(this.#root)) {
      await run([BUILDAH_BIN, ...this.#store, "rm", "-a"], { env: this.#env, log: this.#log });
      await run([BUILDAH_BIN, ...this.#store, "rmi", "-a", "-f"], { env: this.#env, log: this.#log });
    }
    rmSync(this.#root, { recursive: true, force: true });
    rmSync(`${this.#root}-run`, { recursive: true, force: true });
  }

  async close(): Promise<void> {}
}
