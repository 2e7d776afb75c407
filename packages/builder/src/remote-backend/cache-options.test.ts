import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseBuilderAddress } from "@tbuild/llb";
import { daemonCacheOptions } from "./cache-options.js";

const docker = parseBuilderAddress("docker://unix:///var/run/docker.sock");
const buildkitd = parseBuilderAddress("tcp://127.0.0.1:1234");
const work = mkdtempSync("/tmp/tbuild-cache-options-");
afterAll(() => rmSync(work, { recursive: true, force: true }));
const noWarn = (m: string) => {
  throw new Error(`unexpected warning: ${m}`);
};

describe("the daemon's cache import and export (buildx's cache entries)", () => {
  it("passes registry imports and registry/inline exports with buildx's attributes", async () => {
    const got = await daemonCacheOptions(buildkitd, {
      cacheFrom: [{ type: "registry", ref: "r.example/app:cache", insecure: true }],
      cacheTo: [{ type: "registry", ref: "r.example/app:cache", mode: "max", compression: "zstd", ociMediatypes: false, ignoreError: true }, { type: "inline" }],
    }, noWarn);
    expect({ imports: got.imports, exports: got.exports, stores: got.stores }).toEqual({
      imports: [{ Type: "registry", Attrs: { ref: "r.example/app:cache", "registry.insecure": "true" } }],
      exports: [
        { Type: "registry", Attrs: { ref: "r.example/app:cache", mode: "max", compression: "zstd", "oci-mediatypes": "false", "ignore-error": "true" } },
        { Type: "inline", Attrs: {} },
      ],
      stores: new Map(),
    });
  });

  it("type=local as BuildKit's client makes it (client/solve.go): the import names the digest index.json tags, the export its dest; both layouts served as store local:<dir>; the daemon's cache.manifest is tagged after the solve", async () => {
    const src = path.join(work, "src");
    const dest = path.join(work, "dest");
    rmSync(src, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(src, { recursive: true });
    const digest = `sha256:${"a".repeat(64)}`;
    writeFileSync(path.join(src, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${"b".repeat(64)}`, size: 1, annotations: { "org.opencontainers.image.ref.name": "latest" } }, { mediaType: "application/vnd.oci.image.index.v1+json", digest, size: 2, annotations: { "org.opencontainers.image.ref.name": "t1" } }] }));
    const got = await daemonCacheOptions(buildkitd, { cacheFrom: [{ type: "local", src, tag: "t1" }], cacheTo: [{ type: "local", dest, mode: "max", tag: "t2" }] }, noWarn);
    expect(got.imports).toEqual([{ Type: "local", Attrs: { src, digest } }]);
    expect(got.exports).toEqual([{ Type: "local", Attrs: { dest, mode: "max" } }]);
    expect(got.stores).toEqual(new Map([[`local:${src}`, { dir: src }], [`local:${dest}`, { dir: dest, writable: true }]]));
    const manifest = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"c".repeat(64)}`, size: 3 };
    await got.finish({ "cache.manifest": JSON.stringify(manifest) });
    expect(JSON.parse(readFileSync(path.join(dest, "index.json"), "utf8")).manifests).toEqual([{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "t2" } }]);
    expect(readFileSync(path.join(dest, "oci-layout"), "utf8")).toBe('{"imageLayoutVersion":"1.0.0"}');
  });

  it("a local import without index.json or without the tag is a warning and no import, as BuildKit's client skips it", async () => {
    const warnings: string[] = [];
    const got = await daemonCacheOptions(buildkitd, { cacheFrom: [{ type: "local", src: path.join(work, "nowhere") }, { type: "local", src: path.join(work, "src"), tag: "nope" }] }, (m) => warnings.push(m));
    expect(got.imports).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^local cache import at .*nowhere skipped: ENOENT/), expect.stringMatching(/^local cache import at .*src skipped: no digest found for tag nope$/)]);
  });

  it("imports a local cache through Docker's session, warning when it is in the image-manifest form BuildKit 0.8 does not read", async () => {
    const src = path.join(work, "docker-src");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(src, { recursive: true });
    const index = { mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${"d".repeat(64)}`, size: 4, annotations: { "org.opencontainers.image.ref.name": "idx" } };
    const manifest = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"e".repeat(64)}`, size: 5, annotations: { "org.opencontainers.image.ref.name": "mf" } };
    writeFileSync(path.join(src, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [index, manifest] }));
    const got = await daemonCacheOptions(docker, { cacheFrom: [{ type: "local", src, tag: "idx" }] }, noWarn);
    expect(got.imports).toEqual([{ Type: "local", Attrs: { src, digest: index.digest } }]);
    expect(got.stores).toEqual(new Map([[`local:${src}`, { dir: src }]]));
    const warnings: string[] = [];
    const mf = await daemonCacheOptions(docker, { cacheFrom: [{ type: "local", src, tag: "mf" }] }, (m) => warnings.push(m));
    expect(mf.imports).toEqual([{ Type: "local", Attrs: { src, digest: manifest.digest } }]);
    expect(warnings).toEqual([expect.stringMatching(/image-manifest form, which Docker 20\.10's embedded BuildKit \(v0\.8\) does not read/)]);
    // A buildkitd reads both forms: no warning.
    await daemonCacheOptions(buildkitd, { cacheFrom: [{ type: "local", src, tag: "mf" }] }, noWarn);
  });

  it("refuses registry export and type=local export on Docker 20.10, and inline without an image output, each with the reason", async () => {
    await expect(daemonCacheOptions(docker, { cacheTo: [{ type: "registry", ref: "r/a:c" }] }, noWarn)).rejects.toThrow(/Docker 20\.10's embedded BuildKit exports only inline cache/);
    await expect(daemonCacheOptions(docker, { cacheTo: [{ type: "inline" }] }, noWarn)).resolves.toBeDefined();
    await expect(daemonCacheOptions(docker, { cacheTo: [{ type: "local", dest: "/c" }] }, noWarn)).rejects.toThrow(/--cache-to type=local is not supported with --builder docker:\/\/unix:\/\/\/var\/run\/docker\.sock: Docker 20\.10's embedded BuildKit exports no local cache .*; use type=inline with -t$/);
    await expect(daemonCacheOptions(docker, { cacheTo: [{ type: "inline" }], outputs: [{ type: "local", dest: "/o" }] }, noWarn)).rejects.toThrow(/needs an image output \(-t or --push\), not -o type=local/);
  });
});
