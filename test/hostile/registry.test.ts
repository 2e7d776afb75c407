// Misbehaving registries against the pull into the store (the code behind `FROM` of a remote
// image and `tbuild pull`): wrong digests, truncated blobs, manifests over 4 MB, redirect
// loops and redirects to other hosts or schemes, endless 401s, servers that never answer or
// stall. Each must end in a clear error, and the store must hold no trace of the image: no
// name recorded, no blob of it, nothing in tmp/. A honest server (and a redirect to a honest
// blob host) pulls fine, so the cases fail for their own reason. A few cases also go through
// build() and the `tbuild pull` command. Servers are small node:http handlers on 127.0.0.1.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, pullToStore } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { parseReference, RegistryClient } from "@tbuild/oci";
import { repoRoot } from "../support/hostile-procs.js";
import { fakeImage, startFakeRegistry, startPlainServer, type FakeImage, type FakeRegistry, type Override } from "../support/hostile-registry.js";
import { busyboxTar } from "../support/hostile-store.js";
import { Tally } from "../support/hostile-tally.js";

let work: string;
let image: FakeImage;
let reg: FakeRegistry;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  work = mkdtempSync("/dev/shm/tbuild-hostile-registry-");
  image = fakeImage(readFileSync(busyboxTar(path.join(work, "busybox.tar"))));
  reg = await startFakeRegistry(image);
  closers.push(() => reg.close());
});
afterAll(async () => {
  for (const c of closers) await c().catch(() => {});
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Quick timeouts and one retry: the hostile servers need no patience. */
const client = () => new RegistryClient({ dockerConfig: false, retries: 1, retryDelay: 10, timeouts: { connect: 2000, headers: 800, body: 800 } });

/** What the store holds: image names, blob names, tmp entries. */
async function storeState(root: string): Promise<{ images: string[]; blobs: string[]; tmp: string[] }> {
  const store = await Store.open(root);
  try {
    return {
      images: (await store.listImages()).map((i) => i.name).sort(),
      blobs: readdirSync(store.layout.blobsDir).sort(),
      tmp: readdirSync(store.layout.tmpDir),
    };
  } finally {
    await store.close();
  }
}

/** Pulls with `override` in place into the store at `root`; returns the error. */
async function failingPull(root: string, override: Override | undefined, ref = `${reg.host}/hostile/app:1`): Promise<Error & { code?: string }> {
  reg.override = override;
  const store = await Store.open(root);
  const c = client();
  try {
    await pullToStore(store, parseReference(ref), { client: c });
  } catch (e) {
    return e as Error & { code?: string };
  } finally {
    reg.override = undefined;
    await c.close();
    await store.close();
  }
  throw new Error("the pull succeeded");
}

const writeBody = (res: import("node:http").ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-length": String(body.length), ...headers });
  res.end(body);
};

describe("hostile registries", () => {
  it("leave no partial image in the store", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const root = path.join(work, "store");
    const before = await storeState(root);

    const flipped = Buffer.from(image.layer);
    flipped[flipped.length >> 1]! ^= 0xff;
    const bigManifest = Buffer.concat([image.manifest.subarray(0, image.manifest.length - 1), Buffer.from(`,"pad":"${" ".repeat(5 << 20)}"}`)]);
    const loop = await startPlainServer((req, res) => res.writeHead(302, { location: `http://${reg.host}${req.url}` }).end());
    const liar = await startPlainServer((_req, res) => writeBody(res, 200, flipped));
    const tokens = await startPlainServer((_req, res) => writeBody(res, 200, Buffer.from(JSON.stringify({ token: "t", access_token: "t" })), { "content-type": "application/json" }));
    closers.push(loop.close, liar.close, tokens.close);

    const cases: [string, Override, RegExp, string?][] = [
      ["a layer with the wrong bytes", (_q, res, r) => r.kind === "blob" && r.digest === image.layerDigest && (writeBody(res, 200, flipped), true), /digest|sha256/i],
      ["a config with the wrong bytes", (_q, res, r) => r.kind === "blob" && r.digest === image.configDigest && (writeBody(res, 200, Buffer.from(JSON.stringify({ os: "linux" }).padEnd(image.config.length))), true), /digest|sha256/i],
      ["a manifest whose bytes do not match the digest asked for", (_q, res, r) => r.kind === "manifest" && (writeBody(res, 200, Buffer.from(image.manifest.toString().replace("schemaVersion\":2", "schemaVersion\":2 ")), { "content-type": "application/vnd.oci.image.manifest.v1+json" }), true), /digest|sha256/i, `${"@"}${image.manifestDigest}`],
      ["a Docker-Content-Digest header that lies", (_q, res, r) => r.kind === "manifest" && (writeBody(res, 200, image.manifest, { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": image.configDigest }), true), /digest|sha256/i],
      ["a truncated layer, every time", (_q, res, r) => {
        if (r.kind !== "blob" || r.digest !== image.layerDigest) return false;
        res.writeHead(200, { "content-length": String(image.layer.length) });
        res.write(image.layer.subarray(0, image.layer.length >> 1), () => res.socket?.destroy());
        return true;
      }, /truncat|broke|closed|ended/i],
      ["a manifest over 4 MB (declared)", (_q, res, r) => r.kind === "manifest" && (writeBody(res, 200, bigManifest, { "content-type": "application/vnd.oci.image.manifest.v1+json" }), true), /4 ?MB|too large|larger/i],
      ["a manifest over 4 MB (chunked, no length)", (_q, res, r) => {
        if (r.kind !== "manifest") return false;
        res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
        res.end(bigManifest);
        return true;
      }, /4 ?MB|too large|larger/i],
      ["a config declared at 100 MB", (_q, res, r) => {
        if (r.kind !== "manifest") return false;
        const m = JSON.parse(image.manifest.toString());
        m.config.size = 100 << 20;
        writeBody(res, 200, Buffer.from(JSON.stringify(m)), { "content-type": "application/vnd.oci.image.manifest.v1+json" });
        return true;
      }, /too large|larger|limit|MB/i],
      ["a redirect loop", (_q, res, r, url) => r.kind === "blob" && (res.writeHead(307, { location: `http://${loop.host}${url.pathname}` }).end(), true), /redirect/i],
      ["a redirect to file://", (_q, res, r) => r.kind === "blob" && (res.writeHead(307, { location: "file:///etc/passwd" }).end(), true), /redirect|scheme|file/i],
      ["a redirect to another host serving wrong bytes", (_q, res, r, url) => r.kind === "blob" && r.digest === image.layerDigest && (res.writeHead(307, { location: `http://${liar.host}${url.pathname}` }).end(), true), /digest|sha256/i],
      ["a 401 loop with bearer tokens", (_q, res, r) => r.kind !== "ping" && (res.writeHead(401, { "www-authenticate": `Bearer realm="http://${tokens.host}/token",service="fake",scope="repository:hostile/app:pull"` }).end(), true), /unauthori[sz]ed|denied|401|authentication/i],
      ["a 401 loop with basic auth and no credentials", (_q, res) => (res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' }).end(), true), /unauthori[sz]ed|credentials|401|authentication/i],
      ["a server that never answers", (_q, _res, r) => r.kind === "manifest", /time(d)? ?out/i],
      ["a blob that stalls half way", (_q, res, r) => {
        if (r.kind !== "blob" || r.digest !== image.layerDigest) return false;
        res.writeHead(200, { "content-length": String(image.layer.length) });
        res.write(image.layer.subarray(0, 1000));
        return true;
      }, /time(d)? ?out|stall/i],
      ["a storm of 500s", (_q, res, r) => r.kind !== "ping" && (res.writeHead(500).end("boom"), true), /500|server error/i],
      ["a manifest that is not JSON", (_q, res, r) => r.kind === "manifest" && (writeBody(res, 200, Buffer.from("<html>not a manifest</html>"), { "content-type": "application/vnd.oci.image.manifest.v1+json" }), true), /json|manifest|invalid/i],
      ["a manifest whose layers do not match the config", (_q, res, r) => {
        if (r.kind !== "manifest") return false;
        const m = JSON.parse(image.manifest.toString());
        m.layers.push(m.layers[0]);
        writeBody(res, 200, Buffer.from(JSON.stringify(m)), { "content-type": "application/vnd.oci.image.manifest.v1+json" });
        return true;
      }, /diff_ids|layers/i],
      ["an index with no image for this platform", (_q, res, r) => {
        if (r.kind !== "manifest") return false;
        const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: image.manifestDigest, size: image.manifest.length, platform: { os: "plan9", architecture: "mips" } }] };
        writeBody(res, 200, Buffer.from(JSON.stringify(index)), { "content-type": "application/vnd.oci.image.index.v1+json" });
        return true;
      }, /platform|plan9/i],
    ];

    for (const [name, override, pattern, at] of cases) {
      await t.check(name, async () => {
        const err = await failingPull(root, override, at ? `${reg.host}/hostile/app${at}` : undefined);
        if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`${name}: ${err.message}`);
        expect(err.message).toMatch(pattern);
        expect(err.message).not.toMatch(/\n\s+at /);
        expect(await storeState(root)).toEqual(before);
      });
    }

    await t.check("a honest pull through a redirect to a blob host works (control)", async () => {
      const cdn = await startPlainServer((req, res) => writeBody(res, 200, req.url?.includes(image.layerDigest) ? image.layer : image.config));
      closers.push(cdn.close);
      reg.override = (_q, res, r, url) => r.kind === "blob" && (res.writeHead(307, { location: `http://${cdn.host}${url.pathname}` }).end(), true);
      const store = await Store.open(path.join(work, "control"));
      const c = client();
      try {
        const pulled = await pullToStore(store, parseReference(`${reg.host}/hostile/app:1`), { client: c });
        expect(pulled.manifestDigest).toBe(image.manifestDigest);
        expect(cdn.hits()).toBe(2);
      } finally {
        reg.override = undefined;
        await c.close();
        await store.close();
      }
    });

    await t.check("FROM a registry that sends a wrong layer fails the build clearly and records nothing", async () => {
      reg.override = cases[0]![1];
      const buildRoot = path.join(work, "build-store");
      const ctx = path.join(work, "ctx");
      rmSync(ctx, { recursive: true, force: true });
      const { mkdirSync, writeFileSync } = await import("node:fs");
      mkdirSync(ctx);
      writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${reg.host}/hostile/app:1\nRUN true\n`);
      const h = build({ context: ctx, root: buildRoot });
      for await (const _ of h) { /* drain */ }
      const err = await h.result.then(() => undefined, (e: Error) => e);
      reg.override = undefined;
      expect(err?.message).toMatch(/digest|sha256/i);
      expect(err?.message).toContain(`${reg.host}/hostile/app`);
      const s = await storeState(buildRoot);
      expect(s.images).toEqual([]);
      expect(s.tmp).toEqual([]);
    });

    await t.check("tbuild pull from a registry that sends a manifest over 4 MB fails clearly with exit 1", async () => {
      reg.override = cases[5]![1];
      const cliRoot = path.join(work, "cli-store");
      // Not spawnSync: the fake registry lives in this process and must keep answering.
      const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot, "packages/cli/bundle/main.js"), "--root", cliRoot, "pull", `${reg.host}/hostile/app:1`], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.on("close", (status) => resolve({ status, stderr }));
      });
      reg.override = undefined;
      if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`tbuild pull: ${r.status} ${r.stderr}`);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/4 ?MB|too large|larger/i);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect((await storeState(cliRoot)).images).toEqual([]);
    });
    t.assertClean();
  }, 300_000);
});
