// A throwaway local registry: Debian's docker-registry (distribution v2) on 127.0.0.1 with
// a free port, plain HTTP, data on /dev/shm, started and stopped by the harness.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function configText(dataDir: string, host: string): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dataDir}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: ${host}`,
    "  headers:",
    "    X-Content-Type-Options: [nosniff]",
    "",
  ].join("\n");
}

async function answers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts a registry with an empty data directory under `workDir`. */
export async function startRegistry(workDir: string): Promise<LocalRegistry> {
  if (!existsSync(REGISTRY_BIN)) {
    throw new Error(`${REGISTRY_BIN} not found: install Debian's docker-registry (apt-get install docker-registry)`);
  }
  const dataDir = path.join(workDir, "data");
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const host = `127.0.0.1:${await freePort()}`;
    const conf = path.join(workDir, "config.yml");
    writeFileSync(conf, configText(dataDir, host));
    const logFd = openSync(path.join(workDir, "registry.log"), "a");
    const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", conf], { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    let exited = false;
    child.on("exit", () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      if (await answers(host)) {
        return {
          host,
          pid: child.pid!,
          stop: async () => {
            if (exited) return;
            const gone = new Promise<void>((r) => child.once("exit", () => r()));
            child.kill("SIGTERM");
            await Promise.race([gone, sleep(3000)]);
            if (!exited) child.kill("SIGKILL");
          },
        };
      }
      await sleep(100);
    }
    if (!exited) child.kill("SIGKILL");
    // The port may have been taken between probe and bind; try another.
  }
  throw new Error(`docker-registry did not come up; see ${path.join(workDir, "registry.log")}`);
}
