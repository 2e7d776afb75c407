import { describe, expect, it } from "vitest";
import { parseBuilderAddress } from "@tbuild/llb";
import { daemonCacheOptions } from "./cache-options.js";

const docker = parseBuilderAddress("docker://unix:///var/run/docker.sock");
const buildkitd = parseBuilderAddress("tcp://127.0.0.1:1234");

describe("the daemon's cache import and export (buildx's cache entries)", () => {
  it("passes registry imports and registry/inline exports with buildx's attributes", () => {
    expect(daemonCacheOptions(buildkitd, {
      cacheFrom: [{ type: "registry", ref: "r.example/app:cache", insecure: true }],
      cacheTo: [{ type: "registry", ref: "r.example/app:cache", mode: "max", compression: "zstd", ociMediatypes: false, ignoreError: true }, { type: "inline" }],
    })).toEqual({
      imports: [{ Type: "registry", Attrs: { ref: "r.example/app:cache", "registry.insecure": "true" } }],
      exports: [
        { Type: "registry", Attrs: { ref: "r.example/app:cache", mode: "max", compression: "zstd", "oci-mediatypes": "false", "ignore-error": "true" } },
        { Type: "inline", Attrs: {} },
      ],
    });
  });
  it("refuses registry export on Docker 20.10 (inline only), type=local anywhere, and inline without an image output, each with the reason", () => {
    expect(() => daemonCacheOptions(docker, { cacheTo: [{ type: "registry", ref: "r/a:c" }] })).toThrow(/Docker 20\.10's embedded BuildKit exports only inline cache/);
    expect(() => daemonCacheOptions(docker, { cacheTo: [{ type: "inline" }] })).not.toThrow();
    expect(() => daemonCacheOptions(buildkitd, { cacheFrom: [{ type: "local", src: "/c" }] })).toThrow(/--cache-from type=local is not supported with --builder tcp:\/\/127\.0\.0\.1:1234: BuildKit reads and writes a local cache through a content store the client serves over the session/);
    expect(() => daemonCacheOptions(buildkitd, { cacheTo: [{ type: "local", dest: "/c" }] })).toThrow(/--cache-to type=local .*; use type=registry or type=inline$/);
    expect(() => daemonCacheOptions(docker, { cacheTo: [{ type: "local", dest: "/c" }] })).toThrow(/; use type=inline with -t$/);
    expect(() => daemonCacheOptions(docker, { cacheTo: [{ type: "inline" }], outputs: [{ type: "local", dest: "/o" }] })).toThrow(/needs an image output \(-t or --push\), not -o type=local/);
  });
});
