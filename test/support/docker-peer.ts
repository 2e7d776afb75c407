// The BuildKit the remote-backend tests build on: Debian's dockerd 20.10 with its embedded
// BuildKit, on unix:///tmp/dockerd.sock (../shared/tools/peers/dockerd.sh). Started when it
// is not answering; holds the fixture base image the differential goldens were built on,
// imported exactly as test/differential/regen.sh imports it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { repo } from "./differential-store.js";

export const DOCKER_SOCK = "/tmp/dockerd.sock";
export const DOCKER_BUILDER = `docker://unix://${DOCKER_SOCK}`;
const script = path.resolve(repo, "../shared/tools/peers/dockerd.sh");

/** Why the peer cannot run here (docker.io not installed), or undefined. */
export function dockerPeerMissing(): string | undefined {
  if (process.env.CI === "true") return undefined; // CI installs docker.io: nothing may skip
  if (!existsSync("/usr/sbin/dockerd") || !existsSync(script)) return "docker.io (dockerd 20.10) is not installed, or ../shared/tools/peers/dockerd.sh is missing";
  return undefined;
}

export function docker(...args: string[]): string {
  return execFileSync("/usr/bin/docker", ["-H", `unix://${DOCKER_SOCK}`, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20 });
}

/** Starts dockerd if it is not answering, and imports the fixture base image if it is absent. */
export function ensureDockerPeer(work: string): void {
  if (spawnSync("/usr/bin/docker", ["-H", `unix://${DOCKER_SOCK}`, "version"], { stdio: "ignore" }).status !== 0) {
    execFileSync("bash", [script, "start"], { stdio: "pipe" });
  }
  if (spawnSync("/usr/bin/docker", ["-H", `unix://${DOCKER_SOCK}`, "image", "inspect", "tbuild-fixture/busybox:latest"], { stdio: "ignore" }).status !== 0) {
    const tar = path.join(work, "peer-rootfs.tar");
    execFileSync("bash", [path.join(repo, "fixtures/base/busybox-rootfs.sh"), tar], { stdio: "pipe" });
    docker("import", "-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", tar, "tbuild-fixture/busybox:latest");
  }
}
