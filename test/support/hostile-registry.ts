// A small, scriptable registry for the hostile suite: serves one valid single-platform image
// (the busybox fixture rootfs as a gzip layer) over the OCI distribution API on 127.0.0.1,
// and lets a test replace the answer to any request to misbehave (wrong bytes, truncation,
// oversized manifests, redirects, endless 401s, silence). Each server records its requests.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";

export interface FakeImage {
  layer: Buffer;
  layerDigest: string;
  diffID: string;
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const goArch = () => (process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : process.arch);

/** A valid image around one uncompressed layer tar. */
export function fakeImage(layerTar: Buffer): FakeImage {
  const layer = gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({
    architecture: goArch(), os: "linux",
    config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [sha(layerTar)] },
    history: [{ created_by: "fake registry" }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(layer), size: layer.length }],
  }));
  return { layer, layerDigest: sha(layer), diffID: sha(layerTar), config, configDigest: sha(config), manifest, manifestDigest: sha(manifest) };
}

export type Route =
  | { kind: "ping" }
  | { kind: "manifest"; name: string; reference: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "other" };

/** Answers a request itself (return true) or lets the honest registry answer (false). */
export type Override = (req: IncomingMessage, res: ServerResponse, route: Route, url: URL) => boolean;

export interface FakeRegistry {
  /** "127.0.0.1:PORT". */
  host: string;
  requests: { method: string; url: string; authorization?: string }[];
  /** Replaces the misbehaviour (undefined: honest). */
  override: Override | undefined;
  close(): Promise<void>;
}

function route(url: URL): Route {
  if (url.pathname === "/v2/" || url.pathname === "/v2") return { kind: "ping" };
  const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
  if (!m) return { kind: "other" };
  return m[2] === "manifests" ? { kind: "manifest", name: m[1]!, reference: decodeURIComponent(m[3]!) } : { kind: "blob", name: m[1]!, digest: decodeURIComponent(m[3]!) };
}

/** Serves `image` under any repository name and any tag (or its digest). */
export async function startFakeRegistry(image: FakeImage): Promise<FakeRegistry> {
  const reg: FakeRegistry = { host: "", requests: [], override: undefined, close: async () => {} };
  const blobs = new Map([[image.layerDigest, image.layer], [image.configDigest, image.config]]);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${reg.host}`);
    reg.requests.push({ method: req.method ?? "GET", url: req.url ?? "", authorization: req.headers.authorization });
    const r = route(url);
    if (reg.override?.(req, res, r, url)) return;
    const send = (status: number, body: Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-length": String(body.length), ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (r.kind === "ping") return send(200, Buffer.from("{}"), { "content-type": "application/json" });
    if (r.kind === "manifest") {
      return send(200, image.manifest, { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": image.manifestDigest });
    }
    if (r.kind === "blob" && blobs.has(r.digest)) return send(200, blobs.get(r.digest)!, { "docker-content-digest": r.digest });
    send(404, Buffer.from(JSON.stringify({ errors: [{ code: "NOT_FOUND", message: "unknown" }] })), { "content-type": "application/json" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  reg.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  reg.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return reg;
}

/** A plain HTTP server with one handler, for redirect targets and token servers. */
export async function startPlainServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ host: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
