// The converter against golden LLB definitions (goldens/*.json). Each golden lists the ops
// of a Dockerfile's definition in marshalling order as protobuf JSON, inputs named by op
// number (#n) instead of digest, and a "why" per op citing where dockerfile2llb (BuildKit's
// frontend/dockerfile/dockerfile2llb/convert.go, runmount.go) and llb (client/llb/*.go) make
// the same op; "why" is documentation, not compared. UPDATE_GOLDENS=1 rewrites the ops and
// keeps the "why"s — a changed golden is a behaviour change to review against BuildKit.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fromBinary, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { parseDockerfile, toStages } from "@tbuild/parser";
import { marshal, ops as llbOps, pb } from "@tbuild/llb";
import type { ImageConfig } from "@tbuild/oci";
import { convertTarget } from "./convert.js";
import { parentsCopy } from "./copy.js";
import { ociLayoutStores, ociStoreId } from "./named-context.js";

const here = path.dirname(new URL(import.meta.url).pathname);
const amd64 = { os: "linux", architecture: "amd64" };
const baseConfig: ImageConfig = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
  rootfs: { type: "layers", diff_ids: [] },
  history: [{ created: "2024-01-01T00:00:00Z", created_by: "base" }],
};

interface Golden {
  dockerfile: string;
  buildArgs?: Record<string, string>;
  /** The LLB capabilities the daemon reports (default: all of BuildKit's, as a current buildkitd). */
  caps?: string[];
  ulimits?: { name: string; soft: number; hard: number }[];
  buildContexts?: Record<string, string>;
  ops: Record<string, unknown>[];
  config: unknown;
}

async function convert(g: Golden) {
  const ir = toStages(parseDockerfile(g.dockerfile, { file: "Dockerfile" }));
  const target = ir.stages.length - 1;
  const needed = [...new Set(ir.stages.map((s) => s.index))];
  const converted = await convertTarget(
    { ir, buildArgs: new Map(Object.entries(g.buildArgs ?? {})), platforms: { target: amd64, build: amd64 }, allow: [], noCache: false, noCacheFilter: [], stageCount: needed.length, resolveBase: async () => structuredClone(baseConfig),
      builder: "unix:///run/buildkit/buildkitd.sock", llbCaps: async () => new Set(g.caps ?? Object.values(llbOps.caps)), ...(g.ulimits ? { ulimits: g.ulimits } : {}), ...(g.buildContexts ? { buildContexts: g.buildContexts } : {}) },
    target,
  );
  const { definition } = marshal(converted.root);
  const ops = definition.def.map((bytes) => fromBinary(pb.OpSchema, bytes));
  const { createHash } = await import("node:crypto");
  const names = new Map(definition.def.map((b, i) => [`sha256:${createHash("sha256").update(b).digest("hex")}`, `#${i}`]));
  const json = ops.map((op, i) => {
    const j = toJson(pb.OpSchema, op) as Record<string, unknown>;
    for (const inp of (j.inputs as { digest: string }[] | undefined) ?? []) inp.digest = names.get(inp.digest)!;
    const digest = [...names].find(([, n]) => n === `#${i}`)![0];
    const name = definition.metadata[digest]?.description["llb.customname"];
    const caps = Object.keys(definition.metadata[digest]?.caps ?? {});
    return { ...(name ? { name } : {}), ...(caps.length ? { caps } : {}), ...j };
  });
  return { ops: json, config: converted.config };
}

const goldens = ["basic", "multistage", "mounts", "copy-options", "run-options", "named-contexts"];

describe("IR → LLB against goldens written from dockerfile2llb", () => {
  it.each(goldens)("%s", async (name) => {
    const file = path.join(here, "goldens", `${name}.json`);
    const golden = JSON.parse(readFileSync(file, "utf8")) as Golden;
    const got = await convert(golden);
    if (process.env.UPDATE_GOLDENS) {
      const ops = got.ops.map((op, i) => ({ why: (golden.ops[i] as { why?: string } | undefined)?.why ?? "TODO", ...op }));
      writeFileSync(file, JSON.stringify({ ...golden, ops, config: got.config }, null, 2) + "\n");
      return;
    }
    expect(got.ops).toEqual(golden.ops.map(({ why: _, ...op }) => op));
    expect(got.config).toEqual(golden.config);
  });

  it("gives the same definition, byte for byte, for the same Dockerfile (digests are stable)", async () => {
    const golden = JSON.parse(readFileSync(path.join(here, "goldens", "basic.json"), "utf8")) as Golden;
    const a = await convert(golden);
    const b = await convert(golden);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe("what a daemon's LLB capabilities decide", () => {
  // The LLB caps Docker 20.10's embedded BuildKit (0.8) reports through LLBBridge.Ping, less
  // those tbuild never asks for: none of the newer copy or exec features, exec.mount.ssh yes.
  const buildkit08 = ["exec.mount.ssh", "file.base", "exec.mount.secret", "exec.mount.tmpfs"];
  const refused = (dockerfile: string, extra: Partial<Golden> = {}) =>
    convert({ dockerfile, ops: [], config: null, caps: buildkit08, ...extra }).then(() => undefined, (e: Error & { step?: { line: number } }) => e);

  it.each([
    ["FROM busybox\nCOPY --exclude=*.md . /src/\n", /^COPY --exclude needs the BuildKit LLB capability file\.copy\.includeexcludepatterns \(BuildKit v0\.9 or newer\), which the daemon at unix:\/\/\/run\/buildkit\/buildkitd\.sock does not report/],
    ["FROM busybox\nCOPY --parents a/b.txt /src/\n", /^COPY --parents needs the BuildKit LLB capability file\.copy\.includeexcludepatterns/],
    ["FROM busybox\nCOPY --chmod=u+x run /bin/\n", /^--chmod=u\+x \(a symbolic mode\) needs the BuildKit LLB capability exec\.validexitcode \(BuildKit v0\.17 or newer; it stands for the copy's modeStr, which no daemon reports a capability for\)/],
    ["FROM busybox\nRUN --mount=type=secret,id=t,env=T true\n", /^RUN --mount=type=secret,env=T needs the BuildKit LLB capability exec\.secretenv \(BuildKit v0\.10 or newer\)/],
    ["FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=1m true\n", /exec\.mount\.tmpfs\.size/],
  ])("refuses at the step's line, naming the capability: %j", async (dockerfile, message) => {
    const err = await refused(dockerfile);
    expect(err?.name).toBe("StepError");
    expect(err?.message).toMatch(message);
    expect(err?.message).toMatch(/Docker 20\.10's embedded BuildKit is 0\.8/);
    expect(err?.step?.line).toBe(2);
  });

  it("refuses --ulimit on a daemon without exec.meta.ulimit, at the first RUN", async () => {
    const err = await refused("FROM busybox\nENV A=1\nRUN true\n", { ulimits: [{ name: "nofile", soft: 1, hard: 1 }] });
    expect(err?.message).toMatch(/^--ulimit needs the BuildKit LLB capability exec\.meta\.ulimit \(BuildKit v0\.10 or newer\)/);
    expect(err?.step?.line).toBe(3);
  });

  it("converts an SSH mount for BuildKit 0.8, and an invalid --chmod with the local build's message", async () => {
    await expect(convert({ dockerfile: "FROM busybox\nRUN --mount=type=ssh true\n", ops: [], config: null, caps: buildkit08 })).resolves.toBeDefined();
    const err = await refused("FROM busybox\nCOPY --chmod=99 a /b\n");
    expect(err?.message).toMatch(/invalid chmod parameter: '99'/);
  });

  it("converts a symbolic --chmod for a daemon with exec.validexitcode (v0.17+) without putting the unregistered file.copy.modestring cap on the op; refuses it on a v0.16", async () => {
    // v0.16's LLB caps, as far as tbuild asks: every one it knows but exec.validexitcode and file.copy.requiredpaths.
    const v016 = ["file.copy.includeexcludepatterns", "exec.meta.ulimit", "exec.secretenv", "exec.mount.ssh", "exec.mount.tmpfs.size"];
    const err = await refused("FROM busybox\nCOPY --chmod=u+x run /bin/\n", { caps: v016 });
    expect(err?.message).toMatch(/needs the BuildKit LLB capability exec\.validexitcode \(BuildKit v0\.17 or newer/);
    const got = await convert({ dockerfile: "FROM busybox\nCOPY --chmod=u+x run /bin/\n", ops: [], config: null, caps: [...v016, "exec.validexitcode"] });
    const op = got.ops.at(-2) as { caps?: string[]; file: { actions: { copy: Record<string, unknown> }[] } };
    expect(op.file.actions[0]!.copy.modeStr).toBe("u+x");
    expect(op.caps).toBeUndefined();
  });

  it("names a cache mount without id= by its target as written, not as resolved against WORKDIR (convert_runmount.go: path.Clean(mount.Target))", async () => {
    const got = await convert({ dockerfile: "FROM busybox\nWORKDIR /app\nRUN --mount=type=cache,target=cache/ --mount=type=cache,target=/abs true\n", ops: [], config: null });
    const exec = (got.ops.at(-2) as { exec: { mounts: { dest: string; cacheOpt?: { ID: string } }[] } }).exec;
    expect(exec.mounts.filter((m) => m.cacheOpt).map((m) => [m.dest, m.cacheOpt!.ID])).toEqual([["/abs", "//abs"], ["/app/cache", "/cache"]]);
  });

  it("leaves out COPY --parents' required paths for a daemon without file.copy.requiredpaths (BuildKit v0.9–v0.25)", async () => {
    const got = await convert({ dockerfile: "FROM busybox\nCOPY --parents a/b.txt /src/\n", ops: [], config: null, caps: ["file.copy.includeexcludepatterns"] });
    const copy = (got.ops.at(-2) as { file: { actions: { copy: Record<string, unknown> }[] } }).file.actions[0]!.copy;
    expect(copy.includePatterns).toEqual(["a/b.txt"]);
    expect(copy.requiredPaths).toBeUndefined();
  });

  it("splits COPY --parents sources as dockerfile2llb does", () => {
    expect(parentsCopy("a/b/c.txt")).toEqual({ src: "/", pattern: "a/b/c.txt", required: "/a/b/c.txt" });
    expect(parentsCopy("./x/./y/z")).toEqual({ src: "/x", pattern: "y/z", required: "/x/y/z" });
    expect(parentsCopy("src/./**/*.go")).toEqual({ src: "/src", pattern: "**/*.go" });
    expect(parentsCopy("a\\*b/c")).toEqual({ src: "/", pattern: "a\\*b/c", required: "/a\\*b/c" });
  });
});

describe("named build contexts", () => {
  const dockerfile = (text: string, buildContexts: Record<string, string>) => convert({ dockerfile: text, ops: [], config: null, buildContexts }).then(() => undefined, (e: Error) => e);
  it("refuses FROM a directory context as the local build does; an oci-layout:// context needs source.ocilayout (BuildKit v0.11)", async () => {
    expect((await dockerfile("FROM src\n", { src: "/tmp" }))?.message).toBe("FROM src: the build context src is a directory, not an image");
    const old = await convert({ dockerfile: "FROM busybox\nCOPY --from=lay / /\n", ops: [], config: null, buildContexts: { lay: "oci-layout:///tmp/l:1" }, caps: ["exec.mount.ssh"] }).then(() => undefined, (e: Error) => e);
    expect(old?.message).toMatch(/^--build-context lay=oci-layout:\/\/\/tmp\/l:1 needs the BuildKit LLB capability source\.ocilayout \(BuildKit v0\.11 or newer\)/);
  });

  it("makes an oci-layout:// context a source op of the manifest for the platform, its blobs read from the session's store (no session id in the op)", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { createHash } = await import("node:crypto");
    const dir = mkdtempSync("/tmp/tbuild-layout-");
    mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
    const put = (o: unknown) => {
      const b = Buffer.from(JSON.stringify(o));
      const d = createHash("sha256").update(b).digest("hex");
      writeFileSync(path.join(dir, "blobs", "sha256", d), b);
      return { digest: `sha256:${d}`, size: b.length };
    };
    const config = put({ architecture: "amd64", os: "linux", config: { Env: ["FROM_LAYOUT=1"] }, rootfs: { type: "layers", diff_ids: [] } });
    const manifest = put({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [] });
    writeFileSync(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "v1" } }] }));
    const got = await convert({ dockerfile: "FROM base\nRUN true\n", ops: [], config: null, buildContexts: { base: `oci-layout://${dir}:v1` } });
    const src = got.ops[0] as { caps?: string[]; source: { identifier: string; attrs: Record<string, string> } };
    expect(src.source.identifier).toBe(`oci-layout://docker.io/library/${ociStoreId("base")}@${manifest.digest}`);
    expect(src.source.attrs).toEqual({ "oci.store": ociStoreId("base") });
    expect(src.caps).toEqual(["source.ocilayout"]);
    expect((got.config as { config: { Env: string[] } }).config.Env).toContain("FROM_LAYOUT=1");
    expect(ociLayoutStores({ base: `oci-layout://${dir}:v1`, other: "/x" })).toEqual(new Map([[`oci:${ociStoreId("base")}`, { dir }]]));
  });
});
