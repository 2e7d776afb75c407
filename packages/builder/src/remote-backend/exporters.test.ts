import { describe, expect, it } from "vitest";
import { parseBuilderAddress, pb } from "@tbuild/llb";
import { create } from "@bufbuild/protobuf";
import { chooseExporter } from "./exporters.js";
import { runFrontend } from "./frontend.js";

const docker = parseBuilderAddress("docker://unix:///var/run/docker.sock");
const buildkitd = parseBuilderAddress("unix:///run/buildkit/buildkitd.sock");

describe("exporters for several platforms", () => {
  it("refuses Docker's image store (moby loads one image, not an index) and docker archives, with the reason", () => {
    expect(() => chooseExporter(docker, [], ["a:1"], 2)).toThrow(/Docker 20\.10's embedded BuildKit loads one image into Docker's store, not an index .*use -o type=local or -o type=tar/);
    expect(() => chooseExporter(buildkitd, [{ type: "docker", dest: "/tmp/x.tar" }], [], 2)).toThrow(/a docker archive has no image index/);
  });
  it("lets the image, oci, local and tar exporters through", () => {
    expect(chooseExporter(buildkitd, [{ type: "registry", name: "r/a:1" }], [], 2).exporter).toBe("image");
    expect(chooseExporter(buildkitd, [{ type: "oci", dest: "/tmp/o.tar" }], [], 2).exporter).toBe("oci");
    expect(chooseExporter(docker, [{ type: "local", dest: "/tmp/o" }], [], 2).exporter).toBe("local");
    expect(chooseExporter(docker, [{ type: "tar", dest: "/tmp/o.tar" }], [], 2).exporter).toBe("tar");
  });
});

describe("the frontend's result", () => {
  // What dockerfile2llb's Build returns for several platforms (frontend/dockerfile/builder/build.go):
  // refs keyed by platform ID, refs.platforms in order, containerimage.config/<id> per platform.
  it("returns one ref per platform with refs.platforms and each platform's config", async () => {
    const returned: unknown[] = [];
    let n = 0;
    const bridge = {
      solve: async () => ({ ref: "", result: { result: { case: "ref", value: { id: `r${n++}` } } } }),
      return: async (req: unknown) => (returned.push(req), {}),
      ping: async () => ({}),
    } as unknown as Parameters<typeof runFrontend>[0];
    const def = create(pb.DefinitionSchema, { def: [new Uint8Array([1])] });
    await runFrontend(bridge, [
      { platform: { os: "linux", architecture: "amd64" }, definition: def, config: '{"architecture":"amd64"}' },
      { platform: { os: "linux", architecture: "arm", variant: "v7" }, definition: def, config: '{"architecture":"arm"}' },
    ], new AbortController().signal);
    const result = (returned[0] as { result: { result: { case: string; value: { refs: Record<string, { id: string }> } }; metadata: Record<string, Uint8Array> } }).result;
    expect(result.result.case).toBe("refs");
    expect(Object.fromEntries(Object.entries(result.result.value.refs).map(([k, v]) => [k, v.id]))).toEqual({ "linux/amd64": "r0", "linux/arm/v7": "r1" });
    const text = (k: string) => Buffer.from(result.metadata[k]!).toString();
    expect(JSON.parse(text("refs.platforms"))).toEqual({ Platforms: [{ ID: "linux/amd64", Platform: { os: "linux", architecture: "amd64" } }, { ID: "linux/arm/v7", Platform: { os: "linux", architecture: "arm", variant: "v7" } }] });
    expect(text("containerimage.config/linux/arm/v7")).toBe('{"architecture":"arm"}');
  });
});
