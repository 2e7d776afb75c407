// Starts Debian's docker-registry (distribution 2.8) for a test: a free 127.0.0.1 port, a
// temporary storage directory, optional htpasswd Basic auth and optional TLS. Each call gets
// its own process and data; stop() kills it and removes the data.
//
//   const reg = await startRegistry({ auth: { username: "u", password: "p" } });
//   … push to `${reg.host}/repo:tag` …
//   await reg.stop();
//
// Needs /usr/bin/docker-registry (package docker-registry) and, for auth, htpasswd
// (package apache2-utils) to make the bcrypt password file.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { request } from "node:https";
import { request as httpRequest } from "node:http";

export interface RegistryOptions {
  /** Require HTTP Basic auth with these credentials (htpasswd). */
  auth?: { username: string; password: string };
  /** Serve HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Where the temporary data dir is made (default /dev/shm). */
  baseDir?: string;
}

export interface RunningRegistry {
  /** "127.0.0.1:PORT", the registry part of image references. */
  host: string;
  /** "http://127.0.0.1:PORT" (or https://). */
  url: string;
  /** The storage directory (for tests that inspect what the registry holds). */
  dataDir: string;
  /** Kills the registry and removes its data. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the registry binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function probe(url: string, tls: boolean): Promise<number> {
  return new Promise((resolve) => {
    const req = (tls ? request : httpRequest)(`${url}/v2/`, { method: "GET", rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Starts a registry and waits until it answers /v2/. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(opts.baseDir ?? "/dev/shm", "tbuild-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `${opts.tls ? "https" : "http"}://${host}`;
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    `  secret: tbuild-test-${port}`,
  ];
  if (opts.tls) {
    writeFileSync(join(dir, "cert.pem"), opts.tls.cert);
    writeFileSync(join(dir, "key.pem"), opts.tls.key);
    lines.push("  tls:", `    certificate: ${join(dir, "cert.pem")}`, `    key: ${join(dir, "key.pem")}`);
  }
  if (opts.auth) {
    const entry = execFileSync("htpasswd", ["-Bbn", opts.auth.username, opts.auth.password], { encoding: "utf8" });
    writeFileSync(join(dir, "htpasswd"), entry);
    lines.push("auth:", "  htpasswd:", "    realm: tbuild-test", `    path: ${join(dir, "htpasswd")}`);
  }
  writeFileSync(join(dir, "config.yml"), `${lines.join("\n")}\n`);
  const child: ChildProcess = spawn("/usr/bin/docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    const status = await probe(url, !!opts.tls);
    if (status === 200 || status === 401) return { host, url, dataDir: join(dir, "data"), stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start on ${host}: ${stderr.trim() || "no output"}`);
}
