// Where the warm workers of a bundle listen: a socket in the user's private directory,
// named for warm-worker.js's inode, size and modification time (tbuild-client.c derives the
// same name), so a rebuilt or upgraded bundle never talks to workers running older code.
import { readdirSync, rmSync, statSync } from "node:fs";
import * as net from "node:net";
import path from "node:path";
import { privateDir, privateDirPath } from "../private-dir.js";
import { poolDir } from "./pool.js";

/** The socket path for the bundle whose worker code is `workerJs` (bundle/warm-worker.js). */
export function warmSocketPath(workerJs: string, env: NodeJS.ProcessEnv = process.env): string {
  const st = statSync(workerJs, { bigint: true });
  const name = `warm-${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}.sock`;
  return path.join(privateDirPath(process.geteuid!(), env), name);
}

/** True when a process accepts connections on `socket`. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/**
 * Binds `server` to `socket` unless workers already listen there (false then). A socket file
 * nobody answers on is left from workers that have exited, and is replaced.
 */
export async function claimSocket(server: net.Server, socket: string): Promise<boolean> {
  const dir = path.dirname(socket);
  if (dir !== privateDir(process.geteuid!())) throw new Error(`${socket} is not in the private directory`);
  if (await answers(socket)) return false;
  rmSync(socket, { force: true });
  rmSync(poolDir(socket), { recursive: true, force: true });
  const claimed = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(socket, () => resolve(true));
  });
  if (claimed) await sweepStale(dir, socket);
  return claimed;
}

/**
 * Removes the sockets (and pool directories) of earlier bundles whose workers have all gone:
 * each rebuild or upgrade names a socket of its own.
 */
export async function sweepStale(dir: string, keep: string): Promise<void> {
  const names = readdirSync(dir).filter((n) => /^warm-[0-9a-f-]+\.sock$/.test(n) && path.join(dir, n) !== keep);
  for (const name of names) {
    const socket = path.join(dir, name);
    if (await answers(socket)) continue;
    rmSync(socket, { force: true });
    rmSync(poolDir(socket), { recursive: true, force: true });
  }
}
