// The registry client against a real registry (Debian's docker-registry on 127.0.0.1), with
// skopeo and umoci as independent clients. Needs docker-registry, skopeo, umoci, htpasswd
// (apache2-utils), attr, and root (mknod in the test image).
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient, unpackLayer, writeOciLayout, type Descriptor } from "@tbuild/oci";
import { haveTools, makeTestImage } from "../packages/oci/src/testing/fixtures.js";
import { makeTestPki } from "../packages/oci/src/testing/tls.js";
import { snapshotTree } from "../packages/oci/src/testing/tree-snapshot.js";
import { startRegistry, type RunningRegistry } from "./support/registry.js";

const ok = haveTools(["docker-registry", "skopeo", "umoci", "htpasswd", "getfattr"]);
const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

let tmp: string;
let image: Awaited<ReturnType<typeof makeTestImage>>;
let registry: RunningRegistry;

beforeAll(async () => {
  if (!ok) return;
  tmp = mkdtempSync("/dev/shm/oci-registry-");
  image = await makeTestImage(join(tmp, "img"), { bigFile: 300_000 });
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Pulls with our client into files, then unpacks the layers in order onto one rootfs. */
async function pullAndUnpack(client: RegistryClient, ref: string, into: string): Promise<Descriptor> {
  const files: string[] = [];
  const pulled = await client.pull(ref, {
    layerSink: async (_l, i) => {
      files[i] = join(tmp, `pulled-${Math.random().toString(16).slice(2)}`);
      return createWriteStream(files[i]!);
    },
  });
  const { createReadStream } = await import("node:fs");
  for (let i = 0; i < pulled.manifest.layers.length; i++) {
    const l = pulled.manifest.layers[i]!;
    await unpackLayer(createReadStream(files[i]!), into, { whiteouts: "apply", expectedDigest: l.digest, expectedDiffID: pulled.config.rootfs.diff_ids[i] });
  }
  return pulled.descriptor;
}

describe.runIf(ok)("registry client against docker-registry", () => {
  it("pushes an image that skopeo pulls back with identical digests", async () => {
    const client = new RegistryClient();
    const ref = `${registry.host}/test/app:1`;
    const res = await client.push(ref, { manifest: image.manifest, manifestBytes: image.manifestBytes }, image.store.source);
    expect(res.descriptor.digest).toBe(image.digest);
    expect(res.blobs).toEqual({ existing: 0, mounted: 0, uploaded: 3 });
    const out = join(tmp, "skopeo-pulled");
    sh("skopeo", "copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${out}:1`);
    const info = JSON.parse(sh("skopeo", "inspect", `oci:${out}:1`)) as { Digest: string; Layers: string[] };
    expect(info.Digest).toBe(image.digest);
    expect(info.Layers).toEqual(image.manifest.layers.map((l) => l.digest));
    // A second push finds everything there; a push to another repository mounts the blobs.
    expect((await client.push(ref, { manifest: image.manifest }, image.store.source)).blobs).toEqual({ existing: 3, mounted: 0, uploaded: 0 });
    const other = await client.push(`${registry.host}/elsewhere/copy:1`, { manifest: image.manifest }, image.store.source, { mountFrom: () => "test/app" });
    expect(other.blobs).toEqual({ existing: 0, mounted: 3, uploaded: 0 });
    await client.close();
  });

  it("pulls an image skopeo pushed and unpacks it to the tree umoci unpacks", async () => {
    const layout = join(tmp, "layout");
    await writeOciLayout(layout, [{ manifest: image.manifest, manifestBytes: image.manifestBytes, names: ["src:1"] }], image.store.source);
    const ref = `${registry.host}/skopeo/pushed:7`;
    sh("skopeo", "copy", "--dest-tls-verify=false", `oci:${layout}:1`, `docker://${ref}`);
    const client = new RegistryClient();
    const ours = join(tmp, "ours-rootfs");
    const desc = await pullAndUnpack(client, ref, ours);
    expect(desc.digest).toBe(image.digest);
    const viaSkopeo = join(tmp, "via-skopeo");
    sh("skopeo", "copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${viaSkopeo}:7`);
    const bundle = join(tmp, "umoci-bundle");
    sh("umoci", "unpack", "--image", `${viaSkopeo}:7`, bundle);
    expect(await snapshotTree(ours, { dirMtimes: false })).toEqual(await snapshotTree(join(bundle, "rootfs"), { dirMtimes: false }));
    await client.close();
  });

  it("uploads in chunks when asked, and the result pulls back", async () => {
    const client = new RegistryClient({ chunkSize: 64 * 1024 });
    const ref = `${registry.host}/test/chunked:1`;
    const res = await client.push(ref, { manifest: image.manifest, manifestBytes: image.manifestBytes }, image.store.source);
    expect(res.blobs.uploaded).toBe(3);
    const rootfs = join(tmp, "chunked-rootfs");
    await pullAndUnpack(new RegistryClient(), ref, rootfs);
    expect(await snapshotTree(rootfs)).toEqual(await snapshotTree(image.expectedRootfs));
  });

  it("streams a large monolithic upload without holding the blob in memory", async () => {
    // 128 MiB made on the fly, 1 MiB at a time. fetch tees a request body it may replay,
    // and the unread branch would keep every byte: the peak must stay far below the blob.
    const chunks = 128;
    const chunk = (i: number) => Buffer.alloc(1 << 20, i % 251);
    const hash = createHash("sha256");
    for (let i = 0; i < chunks; i++) hash.update(chunk(i));
    const layer: Descriptor = { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${hash.digest("hex")}`, size: chunks << 20 };
    const configBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } }));
    const config: Descriptor = { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${createHash("sha256").update(configBytes).digest("hex")}`, size: configBytes.length };
    const manifest = { schemaVersion: 2 as const, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers: [layer] };
    const source = {
      async open(digest: string) {
        if (digest === config.digest) return Readable.from([configBytes]);
        return Readable.from((function* () { for (let i = 0; i < chunks; i++) yield chunk(i); })());
      },
      async size(digest: string) {
        return digest === config.digest ? config.size : layer.size;
      },
    };
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
    try {
      const res = await new RegistryClient().push(`${registry.host}/test/big:1`, { manifest }, source);
      expect(res.blobs.uploaded).toBe(2);
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeLessThan(64 << 20);
  }, 120_000);

  it("resolves a tag of a multi-platform index to the host's manifest", async () => {
    const client = new RegistryClient();
    const ref = `${registry.host}/test/multi:1`;
    await client.push(`${registry.host}/test/multi@${image.digest}`, { manifest: image.manifest, manifestBytes: image.manifestBytes }, image.store.source);
    const index = {
      schemaVersion: 2 as const, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: image.manifest.mediaType, digest: image.digest, size: image.manifestBytes.length, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: image.manifest.mediaType, digest: image.digest, size: image.manifestBytes.length, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      ],
    };
    const idxBytes = Buffer.from(JSON.stringify(index));
    await client.putManifest(ref, "1", idxBytes, index.mediaType);
    const r = await client.resolve(ref, { os: "linux", architecture: "arm64" });
    expect(r.descriptor.digest).toBe(image.digest);
    expect(r.index?.index.manifests).toHaveLength(2);
    await expect(client.resolve(ref, { os: "linux", architecture: "s390x" })).rejects.toThrow(/no manifest for linux\/s390x; it offers linux\/amd64, linux\/arm64/);
    await expect(client.resolve(`${registry.host}/test/missing:1`)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe.runIf(ok)("registry authentication", () => {
  it("uses Basic credentials from the caller and from a Docker config, and refuses without", async () => {
    const reg = await startRegistry({ auth: { username: "alice", password: "s3cret" } });
    try {
      const ref = `${reg.host}/private/app:1`;
      const anonymous = new RegistryClient({ dockerConfig: false, retries: 0 });
      await expect(anonymous.push(ref, { manifest: image.manifest }, image.store.source)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      const wrong = new RegistryClient({ dockerConfig: false, hosts: { [reg.host]: { credentials: { username: "alice", password: "nope" } } } });
      await expect(wrong.resolve(ref)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      const withCreds = new RegistryClient({ dockerConfig: false, hosts: { [reg.host]: { credentials: { username: "alice", password: "s3cret" } } } });
      expect((await withCreds.push(ref, { manifest: image.manifest }, image.store.source)).descriptor.digest).toBe(image.digest);
      const cfgDir = join(tmp, "docker-config");
      mkdirSync(cfgDir, { recursive: true });
      writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from("alice:s3cret").toString("base64") } } }));
      const fromConfig = new RegistryClient({ dockerConfig: cfgDir });
      expect((await fromConfig.resolve(ref)).descriptor.digest).toBe(image.digest);
      // DOCKER_CONFIG is honoured when no directory is given.
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = cfgDir;
      try {
        expect((await new RegistryClient().resolve(ref)).descriptor.digest).toBe(image.digest);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
      }
    } finally {
      await reg.stop();
    }
  });

  it("follows the Bearer token flow of a token server in front of the registry, caching tokens", async () => {
    const proxy = await bearerProxy(registry.host, { user: "bob", password: "pw" });
    try {
      const client = new RegistryClient({ dockerConfig: false, hosts: { [proxy.host]: { credentials: { username: "bob", password: "pw" } } } });
      const ref = `${proxy.host}/bearer/app:1`;
      await client.push(ref, { manifest: image.manifest, manifestBytes: image.manifestBytes }, image.store.source);
      const rootfs = join(tmp, "bearer-rootfs");
      await pullAndUnpack(client, ref, rootfs);
      expect(await snapshotTree(rootfs)).toEqual(await snapshotTree(image.expectedRootfs));
      // One token per scope set, reused across all the blob requests.
      expect(proxy.tokensIssued()).toBeLessThanOrEqual(3);
      expect(client.transport.auth.tokenRequests).toBe(proxy.tokensIssued());
      const anon = new RegistryClient({ dockerConfig: false, retries: 0 });
      await expect(anon.resolve(ref)).rejects.toMatchObject({ code: "UNAUTHORIZED", message: expect.stringContaining("token server") });
    } finally {
      await proxy.close();
    }
  });

  it("reaches a loopback registry over plain HTTP first, and over TLS (unverified) when its port speaks TLS", async () => {
    const pki = makeTestPki();
    const reg = await startRegistry({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    try {
      const ref = `${reg.host}/tls/loopback:1`;
      const client = new RegistryClient({ retries: 0, dockerConfig: false });
      expect((await client.push(ref, { manifest: image.manifest }, image.store.source)).descriptor.digest).toBe(image.digest);
      expect((await client.transport.base(reg.host)).protocol).toBe("https:");
      await client.close();
    } finally {
      await reg.stop();
    }
  });

  it("trusts a registry's certificate only through the given CA", async () => {
    const pki = makeTestPki();
    const reg = await startRegistry({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    try {
      const ref = `${reg.host}/tls/app:1`;
      const secure = { [reg.host]: { insecure: false } };
      const untrusting = new RegistryClient({ hosts: secure, retries: 0, dockerConfig: false });
      await expect(untrusting.push(ref, { manifest: image.manifest }, image.store.source)).rejects.toThrow(/certificate .* is not trusted/);
      const trusting = new RegistryClient({ hosts: secure, ca: pki.caCert, dockerConfig: false });
      expect((await trusting.push(ref, { manifest: image.manifest }, image.store.source)).descriptor.digest).toBe(image.digest);
      expect((await trusting.resolve(ref)).descriptor.digest).toBe(image.digest);
      await trusting.close();
    } finally {
      await reg.stop();
    }
  });
});

/**
 * A token server and an authenticating reverse proxy in front of a registry: /token issues
 * tokens for Basic credentials; /v2/ requests need one of them as Bearer, else 401 with a
 * challenge naming the scope.
 */
async function bearerProxy(upstream: string, user: { user: string; password: string }) {
  const tokens = new Set<string>();
  let issued = 0;
  let host = "";
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${host}`);
    if (url.pathname === "/token") {
      const expected = `Basic ${Buffer.from(`${user.user}:${user.password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401).end();
        return;
      }
      const token = `tok-${++issued}`;
      tokens.add(token);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || !tokens.has(auth.slice(7))) {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
      const scope = repo ? `,scope="repository:${repo}:pull"` : "";
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="test-registry"${scope}`, "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return;
    }
    const [uh, up] = upstream.split(":");
    const fwd = httpRequest({ host: uh, port: Number(up), method: req.method, path: req.url, headers: { ...req.headers, authorization: "" } }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    fwd.on("error", () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    host,
    tokensIssued: () => issued,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
