// The registry client against misbehaving servers: oversized manifests, redirects to other
// hosts, wrong and truncated blobs, broken connections, slow servers, 5xx storms, 401 loops.
// Each server is a small node:http handler written for the case.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { RegistryClient, type Descriptor, type Digest } from "@tbuild/oci";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
const servers: Server[] = [];

async function serve(handler: Handler): Promise<{ host: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  let host = "";
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, new URL(req.url ?? "/", `http://${host}`));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return { host, requests };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const blob = Buffer.alloc(200_000);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}` as Digest;
const desc: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: blob.length };

function collect(): { sink: Writable; data: () => Buffer; destroyed: () => boolean } {
  const parts: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
  return { sink, data: () => Buffer.concat(parts), destroyed: () => sink.destroyed && !sink.writableFinished };
}

/** Answers /v2/ pings with 200 so the client settles on plain HTTP. */
function ping(url: URL, res: ServerResponse): boolean {
  if (url.pathname !== "/v2/") return false;
  res.writeHead(200).end("{}");
  return true;
}

const client = (extra: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
  new RegistryClient({ dockerConfig: false, retryDelay: 10, ...extra });

describe("registry client against hostile servers", () => {
  it("refuses manifests over 4 MB, by header and by actual length", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const { host } = await serve((req, res, url) => {
      if (ping(url, res)) return;
      if (url.pathname.endsWith("/declared")) res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(big.length) }).end(big);
      else res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" }).end(big); // chunked, no length
    });
    await expect(client().getDocument(`${host}/a/b:declared`)).rejects.toMatchObject({ code: "TOO_LARGE" });
    await expect(client().getDocument(`${host}/a/b:chunked`)).rejects.toMatchObject({ code: "TOO_LARGE" });
  });

  it("follows a blob redirect to another host without sending credentials there", async () => {
    const storage = await serve((req, res) => res.writeHead(200, { "content-length": String(blob.length) }).end(blob));
    const { host } = await serve((req, res, url) => {
      if (url.pathname === "/v2/") {
        res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
        return;
      }
      if (req.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="r"' }).end();
        return;
      }
      res.writeHead(307, { location: `http://${storage.host}/bucket/${digest}?sig=abc` }).end();
    });
    const c = collect();
    await client({ hosts: { [host]: { credentials: { username: "u", password: "p" } } } }).fetchBlob(`${host}/a/b:1`, desc, c.sink);
    expect(c.data().equals(blob)).toBe(true);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    expect(storage.requests[0]!.url).toBe(`/bucket/${digest}?sig=abc`);
  });

  it("fails a blob with the wrong digest and destroys the sink", async () => {
    const wrong = Buffer.from(blob);
    wrong[100] ^= 1;
    const { host } = await serve((req, res, url) => ping(url, res) || res.writeHead(200, { "content-length": String(wrong.length) }).end(wrong));
    const c = collect();
    await expect(client().fetchBlob(`${host}/a/b:1`, desc, c.sink)).rejects.toMatchObject({ code: "DIGEST_MISMATCH", message: expect.stringContaining(digest) });
    expect(c.destroyed()).toBe(true);
  });

  it("resumes a broken download with Range, or re-reads when Range is ignored", async () => {
    for (const honourRange of [true, false]) {
      let gets = 0;
      const { host, requests } = await serve((req, res, url) => {
        if (ping(url, res)) return;
        gets++;
        const range = /bytes=(\d+)-/.exec(req.headers.range ?? "");
        if (range && honourRange) {
          const from = Number(range[1]);
          res.writeHead(206, { "content-range": `bytes ${from}-${blob.length - 1}/${blob.length}`, "content-length": String(blob.length - from) }).end(blob.subarray(from));
          return;
        }
        if (gets === 1) {
          // Announce everything, send a third, then drop the connection.
          res.writeHead(200, { "content-length": String(blob.length) });
          res.write(blob.subarray(0, 70_000), () => res.socket?.destroy());
          return;
        }
        res.writeHead(200, { "content-length": String(blob.length) }).end(blob);
      });
      const c = collect();
      await client().fetchBlob(`${host}/a/b:1`, desc, c.sink);
      expect(c.data().equals(blob)).toBe(true);
      const blobRequests = requests.filter((r) => r.url !== "/v2/");
      expect(blobRequests).toHaveLength(2);
      expect(blobRequests[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    }
  });

  it("gives up on a blob that keeps arriving truncated", async () => {
    const { host } = await serve((req, res, url) => {
      if (ping(url, res)) return;
      res.writeHead(200, { "content-length": String(blob.length) });
      res.write(blob.subarray(0, 1000), () => res.socket?.destroy());
    });
    const c = collect();
    await expect(client({ retries: 2 }).fetchBlob(`${host}/a/b:1`, desc, c.sink)).rejects.toMatchObject({ code: "TRUNCATED", message: expect.stringContaining("broke after 1000 of 200000 bytes, 3 times") });
    expect(c.destroyed()).toBe(true);
  });

  it("times out a server that never answers, per the configured timeout", async () => {
    const { host } = await serve((req, res, url) => {
      if (ping(url, res)) return;
      // never respond
    });
    await expect(client({ retries: 0, timeouts: { headers: 300 } }).getDocument(`${host}/a/b:1`)).rejects.toMatchObject({ code: "TIMEOUT" });
    const stalling = await serve((req, res, url) => {
      if (ping(url, res)) return;
      res.writeHead(200, { "content-length": String(blob.length) });
      res.write(blob.subarray(0, 1000)); // then silence
    });
    const c = collect();
    await expect(client({ retries: 0, timeouts: { body: 300 } }).fetchBlob(`${stalling.host}/a/b:1`, desc, c.sink)).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("retries 5xx with backoff but not 4xx", async () => {
    let calls = 0;
    const flaky = await serve((req, res, url) => {
      if (ping(url, res)) return;
      calls++;
      if (calls < 3) res.writeHead(503).end();
      else res.writeHead(200, { "content-length": String(blob.length) }).end(blob);
    });
    const c = collect();
    await client({ retries: 3 }).fetchBlob(`${flaky.host}/a/b:1`, desc, c.sink);
    expect(calls).toBe(3);
    let notFound = 0;
    const missing = await serve((req, res, url) => {
      if (ping(url, res)) return;
      notFound++;
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }));
    });
    await expect(client({ retries: 3 }).fetchBlob(`${missing.host}/a/b:1`, desc, collect().sink)).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("BLOB_UNKNOWN") });
    expect(notFound).toBe(1);
  });

  it("stops after one retry when a registry keeps answering 401", async () => {
    let tokenCalls = 0;
    let manifestCalls = 0;
    let host = "";
    ({ host } = await serve((req, res, url) => {
      if (url.pathname === "/token") {
        tokenCalls++;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "t" }));
        return;
      }
      if (url.pathname !== "/v2/") manifestCalls++;
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="s"` }).end();
    }));
    await expect(client().getDocument(`${host}/a/b:1`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect(manifestCalls).toBe(2);
    expect(tokenCalls).toBeLessThanOrEqual(2);
  });
});
