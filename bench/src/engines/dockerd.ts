// The Docker daemon behind the BuildKit peer: Debian's docker.io 20.10 (embedded
// BuildKit) on unix:///tmp/dockerd.sock, as ../shared/tools/peers/dockerd.sh runs it. A
// daemon already answering there is used as it is and left running; otherwise the
// harness starts one (through dockerd.sh when present, with the same flags otherwise),
// with its data on /dev/shm, and stops it at the end.

import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PEERS_DIR } from "../paths.js";
import { run } from "../proc.js";

export const DOCKER_SOCK = "/tmp/dockerd.sock";
/** Debian's 20.10 CLI: a newer CLI without the buildx plugin cannot drive BuildKit. */
export const DOCKER_CLI = "/usr/bin/docker";
export const DOCKERD_BIN = "/usr/sbin/dockerd";

export interface DockerDaemon {
  version: string;
  /** Whether the harness started it (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/** `docker -H unix:///tmp/dockerd.sock` */
export function dockerBase(): string[] {
  return [DOCKER_CLI, "-H", `unix://${DOCKER_SOCK}`];
}

async function serverVersion(): Promise<string | undefined> {
  const r = await run([...dockerBase(), "version", "--format", "{{.Server.Version}}"]);
  return r.code === 0 ? r.output.trim() : undefined;
}

/** A running daemon, or a reason none can be had (what to install). */
export async function ensureDockerd(dataRoot: string, log: string): Promise<DockerDaemon | string> {
  if (!existsSync(DOCKER_CLI) || !existsSync(DOCKERD_BIN)) {
    return "Docker 20.10 with embedded BuildKit not found: install it with `apt-get install docker.io` (Debian's, which provides /usr/bin/docker and /usr/sbin/dockerd)";
  }
  const running = await serverVersion();
  if (running) return { version: running, started: false, stop: async () => {} };

  const script = path.join(PEERS_DIR, "dockerd.sh");
  if (existsSync(script)) {
    const env = { ...process.env, DOCKERD_ROOT: dataRoot };
    const r = await run(["bash", script, "start"], { env, log });
    const v = await serverVersion();
    if (r.code !== 0 || !v) return `dockerd did not start (${script} start): ${r.output.trim().split("\n").slice(-5).join(" | ")}`;
    return { version: v, started: true, stop: async () => void (await run(["bash", script, "stop"], { env, log })) };
  }

  // dockerd.sh's flags, without its apt-get fallback (the harness installs nothing).
  mkdirSync(dataRoot, { recursive: true });
  const fd = openSync(log, "a");
  const child = spawn(
    DOCKERD_BIN,
    [
      "--data-root", dataRoot, "--exec-root", "/tmp/dockerd-exec", "-p", "/tmp/dockerd-exec.pid",
      "-H", `unix://${DOCKER_SOCK}`, "--containerd-namespace", "tbuildpeers",
      "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver", "overlay2",
    ],
    { stdio: ["ignore", fd, fd], detached: true },
  );
  closeSync(fd);
  let exited = false;
  child.on("exit", () => (exited = true));
  for (let i = 0; i < 100 && !exited; i++) {
    const v = await serverVersion();
    if (v) {
      return {
        version: v,
        started: true,
        stop: async () => {
          if (exited) return;
          child.kill("SIGTERM");
          for (let j = 0; j < 50 && !exited; j++) await sleep(200);
        },
      };
    }
    await sleep(300);
  }
  if (!exited) child.kill("SIGKILL");
  return `dockerd did not start; see ${log}`;
}
