// OCI layout, oci-archive and docker-archive against the real tools: skopeo and umoci must
// accept what we write, and we must read what skopeo writes. Needs root, skopeo, umoci, attr.
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MediaType, readDockerArchive, readOciArchive, readOciLayout, serializeDocument, unpackLayer, writeDockerArchive,
  writeLayer, writeOciArchive, writeOciLayout, findImage, toDockerManifest, type BlobSource, type Digest, type ImageConfig, type Manifest,
} from "@tbuild/oci";
import { snapshotTree } from "../packages/oci/src/testing/tree-snapshot.js";
import { dirBlobStore, haveTools } from "../packages/oci/src/testing/fixtures.js";

const ok = haveTools(["skopeo", "umoci", "getfattr", "tar"]);

let tmp: string;
let store: ReturnType<typeof dirBlobStore>;
let manifest: Manifest;
let manifestBytes: Buffer;
let expectedRootfs: string;

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(async () => {
  if (!ok) return;
  tmp = mkdtempSync("/dev/shm/oci-layout-");
  store = dirBlobStore(join(tmp, "store"));
  // Layer 1: a small rootfs. Layer 2: an overlay upper that deletes and adds files.
  const base = join(tmp, "base");
  mkdirSync(join(base, "etc"), { recursive: true });
  mkdirSync(join(base, "usr", "bin"), { recursive: true });
  writeFileSync(join(base, "etc", "os-release"), "ID=tbuild\n");
  writeFileSync(join(base, "etc", "obsolete"), "old\n");
  writeFileSync(join(base, "usr", "bin", "tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(base, "usr", "bin", "tool"), 0o755);
  symlinkSync("usr/bin", join(base, "bin"));
  const upper = join(tmp, "upper");
  mkdirSync(join(upper, "etc"), { recursive: true });
  sh("mknod", join(upper, "etc", "obsolete"), "c", "0", "0");
  writeFileSync(join(upper, "etc", "added"), "new\n");
  const layers = [];
  const diffIDs: Digest[] = [];
  for (const [dir, kind] of [[base, "dir"], [upper, "overlay-upper"]] as const) {
    const tmpFile = join(tmp, "layer.tmp");
    const r = await writeLayer({ kind, dir }, createWriteStream(tmpFile), { compression: "gzip", sourceDateEpoch: 1_700_000_000 });
    store.adopt(tmpFile, r.digest!);
    layers.push({ mediaType: MediaType.ociLayerGzip, digest: r.digest!, size: r.compressedSize! });
    diffIDs.push(r.diffID);
  }
  const config: ImageConfig = {
    created: "2024-01-01T00:00:00Z", architecture: "amd64", os: "linux",
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/tool"] },
    rootfs: { type: "layers", diff_ids: diffIDs },
    history: [{ created: "2024-01-01T00:00:00Z", created_by: "base" }, { created: "2024-01-01T00:00:00Z", created_by: "upper" }],
  };
  const cfg = store.put(serializeDocument(config).bytes);
  manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size }, layers };
  manifestBytes = serializeDocument(manifest).bytes;
  // What the rootfs should be: both layers applied by our own unpacker.
  expectedRootfs = join(tmp, "expected");
  for (const l of layers) await unpackLayer(await store.source.open(l.digest), expectedRootfs, { whiteouts: "apply" });
});

afterAll(() => tmp && rmSync(tmp, { recursive: true, force: true }));

async function umociRootfs(layoutDir: string, tag: string): Promise<string> {
  const bundle = join(tmp, `bundle-${Math.random().toString(16).slice(2)}`);
  sh("umoci", "unpack", "--image", `${layoutDir}:${tag}`, bundle);
  return join(bundle, "rootfs");
}

function skopeoInspect(transport: string): { Digest: string; Layers: string[]; Architecture: string; Env: string[] } {
  return JSON.parse(sh("skopeo", "inspect", transport)) as never;
}

describe.runIf(ok)("OCI image layout", () => {
  it("is accepted by skopeo inspect and umoci unpack, with our digests", async () => {
    const dir = join(tmp, "layout");
    const index = await writeOciLayout(dir, [{ manifest, manifestBytes, names: ["example.com/test/app:1.0"] }], store.source);
    expect(index.manifests[0]!.annotations).toEqual({ "org.opencontainers.image.ref.name": "1.0", "io.containerd.image.name": "example.com/test/app:1.0" });
    const info = skopeoInspect(`oci:${dir}:1.0`);
    expect(info.Digest).toBe(serializeDocument(manifest).digest);
    expect(info.Layers).toEqual(manifest.layers.map((l) => l.digest));
    expect(info.Env).toEqual(["PATH=/usr/bin:/bin"]);
    const rootfs = await umociRootfs(dir, "1.0");
    expect(existsSync(join(rootfs, "etc", "obsolete"))).toBe(false);
    expect(await snapshotTree(rootfs, { dirMtimes: false })).toEqual(await snapshotTree(expectedRootfs, { dirMtimes: false }));
  });

  it("merges into an existing layout, replacing a tag, and reads back", async () => {
    const dir = join(tmp, "layout2");
    await writeOciLayout(dir, [{ manifest, manifestBytes, names: ["app:1.0", "app:old"] }], store.source);
    const docker = toDockerManifest(manifest);
    await writeOciLayout(dir, [{ manifest: docker, names: ["app:1.0"] }], store.source);
    const set = await readOciLayout(dir);
    expect(set.images.map((i) => i.refName).sort()).toEqual(["1.0", "old"]);
    expect(findImage(set, "1.0", dir).manifests[0]!.manifest.mediaType).toBe(MediaType.dockerManifest);
    const img = findImage(set, "old", dir).manifests[0]!;
    expect(img.config.rootfs.diff_ids).toHaveLength(2);
    // Blobs stream out verified.
    const chunks: Buffer[] = [];
    for await (const c of await set.blobs.open(manifest.layers[0]!.digest)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).toBe(manifest.layers[0]!.size);
    // A corrupted blob is caught on read.
    writeFileSync(join(dir, "blobs", "sha256", manifest.layers[1]!.digest.slice(7)), Buffer.alloc(manifest.layers[1]!.size));
    await expect((async () => { for await (const _ of await set.blobs.open(manifest.layers[1]!.digest)) { /* drain */ } })())
      .rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
  });
});

describe.runIf(ok)("oci-archive", () => {
  it("is accepted by skopeo and umoci, and is deterministic", async () => {
    const file = join(tmp, "img.oci.tar");
    await writeOciArchive(createWriteStream(file), [{ manifest, manifestBytes, names: ["app:2.0"] }], store.source);
    const again = join(tmp, "img2.oci.tar");
    await writeOciArchive(createWriteStream(again), [{ manifest, manifestBytes, names: ["app:2.0"] }], store.source);
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
    expect(skopeoInspect(`oci-archive:${file}:2.0`).Digest).toBe(serializeDocument(manifest).digest);
    const unpacked = join(tmp, "from-archive");
    mkdirSync(unpacked);
    sh("tar", "-xf", file, "-C", unpacked);
    const rootfs = await umociRootfs(unpacked, "2.0");
    expect(await snapshotTree(rootfs, { dirMtimes: false })).toEqual(await snapshotTree(expectedRootfs, { dirMtimes: false }));
  });

  it("reads an oci-archive written by skopeo", async () => {
    const layout = join(tmp, "layout3");
    await writeOciLayout(layout, [{ manifest, manifestBytes, names: ["app:3"] }], store.source);
    const file = join(tmp, "skopeo.oci.tar");
    sh("skopeo", "copy", `oci:${layout}:3`, `oci-archive:${file}:3`);
    const set = await readOciArchive(file);
    const img = findImage(set, "3", file).manifests[0]!;
    expect(img.manifest.layers.map((l) => l.digest)).toEqual(manifest.layers.map((l) => l.digest));
    const out = join(tmp, "from-skopeo-archive");
    for (const l of img.manifest.layers) await unpackLayer(await set.blobs.open(l.digest), out, { whiteouts: "apply", expectedDigest: l.digest });
    expect(await snapshotTree(out)).toEqual(await snapshotTree(expectedRootfs));
  });
});

describe.runIf(ok)("docker-archive", () => {
  it("is accepted by skopeo inspect, with uncompressed layers matching the diffIDs", async () => {
    const file = join(tmp, "img.docker.tar");
    await writeDockerArchive(createWriteStream(file), [{ manifest, names: ["example.com/test/app:4.0"] }], store.source);
    const info = skopeoInspect(`docker-archive:${file}`);
    const config = JSON.parse(readFileSync(store.path(manifest.config.digest), "utf8")) as ImageConfig;
    expect(info.Layers).toEqual(config.rootfs.diff_ids);
    const listing = sh("tar", "-tf", file).trim().split("\n");
    expect(listing).toContain("manifest.json");
    expect(listing).toContain("repositories");
    const entries = JSON.parse(sh("tar", "-xOf", file, "manifest.json")) as Array<{ RepoTags: string[] }>;
    expect(entries[0]!.RepoTags).toEqual(["example.com/test/app:4.0"]);
  });

  it("reads a docker-archive written by skopeo and unpacks it to the same tree", async () => {
    const layout = join(tmp, "layout4");
    await writeOciLayout(layout, [{ manifest, manifestBytes, names: ["app:4"] }], store.source);
    const file = join(tmp, "skopeo.docker.tar");
    sh("skopeo", "copy", `oci:${layout}:4`, `docker-archive:${file}:app:4`);
    const set = await readDockerArchive(file);
    expect(set.images.map((i) => i.name)).toEqual(["docker.io/library/app:4"]);
    const img = set.images[0]!.manifests[0]!;
    const out = join(tmp, "from-docker-archive");
    for (const l of img.manifest.layers) await unpackLayer(await set.blobs.open(l.digest), out, { whiteouts: "apply" });
    expect(await snapshotTree(out)).toEqual(await snapshotTree(expectedRootfs));
    // Our own docker-archive reads back too.
    const ours = join(tmp, "ours.docker.tar");
    await writeDockerArchive(createWriteStream(ours), [{ manifest: img.manifest, names: ["app:5"] }], set.blobs as BlobSource);
    const again = await readDockerArchive(ours);
    expect(again.images[0]!.manifests[0]!.config.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
  });
});
