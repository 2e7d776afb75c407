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
import { marshal, pb } from "@tbuild/llb";
import type { ImageConfig } from "@tbuild/oci";
import { convertTarget } from "./convert.js";

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
  ops: Record<string, unknown>[];
  config: unknown;
}

async function convert(g: Golden) {
  const ir = toStages(parseDockerfile(g.dockerfile, { file: "Dockerfile" }));
  const target = ir.stages.length - 1;
  const needed = [...new Set(ir.stages.map((s) => s.index))];
  const converted = await convertTarget(
    { ir, buildArgs: new Map(Object.entries(g.buildArgs ?? {})), platforms: { target: amd64, build: amd64 }, allow: [], noCache: false, noCacheFilter: [], stageCount: needed.length, resolveBase: async () => structuredClone(baseConfig) },
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
    return { ...(name ? { name } : {}), ...j };
  });
  return { ops: json, config: converted.config };
}

const goldens = ["basic", "multistage", "mounts"];

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
