import { describe, expect, it } from "vitest";
import { MediaType, type Manifest } from "../types.js";
import { toDockerManifest, toOciManifest, toDockerManifestList, toOciIndex } from "./convert.js";
import { parseImageConfig, parseImageDocument, parseIndex, parseManifest, serializeDocument, MAX_MANIFEST_SIZE } from "./documents.js";
import { formatPlatform, parsePlatform, selectManifest } from "./platform.js";

const d = (c: string) => `sha256:${c.repeat(64)}` as const;
const manifest: Manifest = {
  schemaVersion: 2, mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: d("c"), size: 10 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: d("1"), size: 5 }, { mediaType: MediaType.ociLayerZstd, digest: d("2"), size: 6 }],
};

describe("documents", () => {
  it("round-trips a manifest through bytes, keeping unknown fields", () => {
    const bytes = Buffer.from(JSON.stringify({ ...manifest, annotations: { a: "b" }, extra: 1 }));
    const m = parseManifest(bytes) as Manifest & { extra?: number };
    expect(m.extra).toBe(1);
    expect(serializeDocument(m).bytes.equals(bytes)).toBe(true);
  });

  it("tells manifests from indexes by media type and by shape", () => {
    expect(parseImageDocument(JSON.stringify(manifest)).kind).toBe("manifest");
    const list = { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ mediaType: MediaType.dockerManifest, digest: d("a"), size: 1, platform: { os: "linux", architecture: "amd64" } }] };
    expect(parseImageDocument(JSON.stringify(list)).kind).toBe("index");
    const { mediaType: _, ...bare } = list;
    expect(parseImageDocument(JSON.stringify(bare)).kind).toBe("index");
  });

  it("refuses schema 1, oversized manifests, bad digests and configs without diff_ids", () => {
    expect(() => parseManifest(JSON.stringify({ schemaVersion: 1, fsLayers: [] }))).toThrow(/schema 1/);
    expect(() => parseManifest(Buffer.alloc(MAX_MANIFEST_SIZE + 1, 0x20))).toThrow(/4 MB/);
    expect(() => parseManifest(JSON.stringify({ ...manifest, config: { ...manifest.config, digest: "sha256:xyz" } }))).toThrow(/not a sha256 digest/);
    expect(() => parseImageConfig(JSON.stringify({ architecture: "amd64", os: "linux" }))).toThrow(/diff_ids/);
    expect(() => parseIndex(JSON.stringify(manifest))).toThrow(/not an index/);
    expect(() => parseIndex(JSON.stringify({ schemaVersion: 2 }))).toThrow(/manifests is missing/);
  });

  it("converts between OCI and Docker media types without touching digests", () => {
    const docker = toDockerManifest(manifest);
    expect(docker.mediaType).toBe(MediaType.dockerManifest);
    expect(docker.config.mediaType).toBe(MediaType.dockerConfig);
    expect(docker.layers.map((l) => l.mediaType)).toEqual([MediaType.dockerLayerGzip, MediaType.ociLayerZstd]);
    expect(docker.layers.map((l) => l.digest)).toEqual(manifest.layers.map((l) => l.digest));
    expect(toOciManifest(docker)).toEqual(manifest);
    const ix = { schemaVersion: 2 as const, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: d("a"), size: 1 }] };
    expect(toDockerManifestList(ix).manifests[0]!.mediaType).toBe(MediaType.dockerManifest);
    expect(toOciIndex(toDockerManifestList(ix))).toEqual(ix);
  });
});

describe("platforms", () => {
  const index = {
    schemaVersion: 2 as const,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: d("1"), size: 1, platform: { os: "linux", architecture: "amd64" } },
      { mediaType: MediaType.ociManifest, digest: d("2"), size: 1, platform: { os: "linux", architecture: "arm", variant: "v6" } },
      { mediaType: MediaType.ociManifest, digest: d("3"), size: 1, platform: { os: "linux", architecture: "arm", variant: "v7" } },
      { mediaType: MediaType.ociManifest, digest: d("4"), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { mediaType: MediaType.ociManifest, digest: d("5"), size: 1, platform: { os: "unknown", architecture: "unknown" } },
    ],
  };
  it("selects by normalised platform", () => {
    expect(selectManifest(index, parsePlatform("linux/x86_64")).digest).toBe(d("1"));
    expect(selectManifest(index, parsePlatform("linux/arm")).digest).toBe(d("3"));
    expect(selectManifest(index, parsePlatform("linux/arm/v6")).digest).toBe(d("2"));
    expect(selectManifest(index, parsePlatform("linux/aarch64")).digest).toBe(d("4"));
    expect(() => selectManifest(index, parsePlatform("linux/s390x"))).toThrow(/offers linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64/);
    expect(formatPlatform(parsePlatform("linux/arm64/v8"))).toBe("linux/arm64");
  });
});
