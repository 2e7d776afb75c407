// Registry credentials from Docker's config file ($DOCKER_CONFIG/config.json, default
// ~/.docker/config.json): `auths` entries (base64 "user:password" in `auth`, or
// username/password, identitytoken, registrytoken), and credential helpers (`credHelpers`,
// `credsStore`) run as `docker-credential-<name> get`, as the Docker CLI does.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { OciError } from "../errors.js";
import { DOCKER_HUB } from "./reference.js";

/** Credentials for one registry. */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token endpoint. */
  identityToken?: string;
  /** A bearer token to send as is (Docker's `registrytoken`). */
  registryToken?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys Docker Hub credentials may be stored under. */
const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1", "https://registry-1.docker.io"];

/** The directory holding config.json: $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), ".docker");
}

/** Normalises an `auths` key ("https://host:port/v1/", "host") to host[:port]. */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}

function fromEntry(e: AuthEntry, where: string): Credentials | undefined {
  const c: Credentials = {};
  if (e.auth) {
    const decoded = Buffer.from(e.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OciError("INVALID_FORMAT", `the "auth" entry for ${where} in the Docker config is not base64 "user:password".`);
    c.username = decoded.slice(0, colon);
    c.password = decoded.slice(colon + 1);
  } else if (e.username !== undefined) {
    c.username = e.username;
    c.password = e.password ?? "";
  }
  if (e.identitytoken) c.identityToken = e.identitytoken;
  if (e.registrytoken) c.registryToken = e.registrytoken;
  return Object.keys(c).length > 0 ? c : undefined;
}

function runHelper(helper: string, server: string): Promise<Credentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ["get"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", () => {});
    child.on("error", (e) => reject(new OciError("UNAUTHORIZED", `the Docker credential helper docker-credential-${helper} could not be run (${e.message}).`)));
    child.on("close", (code) => {
      if (code !== 0) return resolve(undefined); // "credentials not found"
      try {
        const v = JSON.parse(out) as { Username?: string; Secret?: string };
        if (v.Username === "<token>") resolve({ identityToken: v.Secret });
        else resolve({ username: v.Username, password: v.Secret });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.end(server);
  });
}

/**
 * Looks up credentials for `registry` (host[:port]) in the Docker config. Returns undefined
 * if the config or an entry is absent; throws for a malformed config file.
 */
export async function dockerCredentials(registry: string, configDir = dockerConfigDir()): Promise<Credentials | undefined> {
  const path = join(configDir, "config.json");
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  let cfg: DockerConfigFile;
  try {
    cfg = JSON.parse(raw) as DockerConfigFile;
  } catch (err) {
    throw new OciError("INVALID_FORMAT", `the Docker config ${path} is not valid JSON (${(err as Error).message}).`);
  }
  const isHub = registry === DOCKER_HUB;
  const helper = cfg.credHelpers?.[registry] ?? (isHub ? HUB_KEYS.map((k) => cfg.credHelpers?.[k]).find(Boolean) : undefined);
  if (helper) return runHelper(helper, isHub ? HUB_KEYS[0]! : registry);
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    const match = isHub ? HUB_KEYS.includes(key) || keyHost(key) === DOCKER_HUB : keyHost(key) === registry;
    if (match) {
      const c = fromEntry(entry, key);
      if (c) return c;
    }
  }
  if (cfg.credsStore) return runHelper(cfg.credsStore, isHub ? HUB_KEYS[0]! : registry);
  return undefined;
}
