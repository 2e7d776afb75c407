import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "./stages.js";
import { DockerfileSyntaxError } from "../errors.js";

const ir = (src: string) => toStages(parseDockerfile(src));
function err(src: string): DockerfileSyntaxError {
  try {
    ir(src);
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) return e;
    throw e;
  }
  throw new Error("expected a DockerfileSyntaxError");
}

describe("stages", () => {
  it("groups instructions into stages with names, bases and platforms", () => {
    const r = ir("ARG V=1\nARG B\nFROM --platform=$BUILDPLATFORM golang:$V AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n");
    expect(r.globalArgs.map((a) => a.args)).toEqual([[{ name: "V", default: "1" }], [{ name: "B" }]]);
    expect(r.stages).toHaveLength(2);
    const [a, b] = r.stages;
    expect([a.index, a.name, a.base, a.platform, a.line]).toEqual([0, "build", "golang:$V", "$BUILDPLATFORM", 3]);
    expect(a.instructions.map((i) => i.kind)).toEqual(["run"]);
    expect([b.index, b.name, b.base, b.platform]).toEqual([1, undefined, "scratch", undefined]);
    expect(b.dependencies).toEqual([{ stage: 0, via: "copy", line: 6 }]);
    expect(b.instructions[0]).toMatchObject({ kind: "copy", from: "build", fromStage: 0 });
  });

  it("links FROM <stage> only to earlier stages with the exact lower-case name", () => {
    const r = ir("FROM alpine AS base\nFROM base\nFROM base2\n");
    expect(r.stages[1].baseStage).toBe(0);
    expect(r.stages[1].dependencies).toEqual([{ stage: 0, via: "from", line: 2 }]);
    expect(r.stages[2].baseStage).toBeUndefined();
  });

  it("resolves COPY --from by index, by name case-insensitively, and accepts image references", () => {
    const r = ir("FROM a AS one\nFROM b\nCOPY --from=0 /a /a\nCOPY --from=ONE /b /b\nCOPY --from=alpine:3.20 /c /c\nCOPY --from=ghcr.io/o/r@sha256:" + "a".repeat(64) + " /d /d\n");
    const copies = r.stages[1].instructions;
    expect(copies.map((c) => (c.kind === "copy" ? c.fromStage : "x"))).toEqual([0, 0, undefined, undefined]);
  });

  it("records RUN --mount from= edges", () => {
    const r = ir("FROM a AS deps\nFROM b\nRUN --mount=type=bind,from=deps,target=/d true\n");
    expect(r.stages[1].dependencies).toEqual([{ stage: 0, via: "mount", line: 3 }]);
    const run = r.stages[1].instructions[0];
    expect(run.kind === "run" && run.mounts[0].fromStage).toBe(0);
  });

  it("allows references to later stages (checked when planning) but rejects cycles", () => {
    const r = ir("FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\n");
    expect(r.stages[0].dependencies).toEqual([{ stage: 1, via: "copy", line: 2 }]);
    const e = err("FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\nCOPY --from=x /b /b\n");
    expect(e.reason).toMatch(/^circular dependency detected on stage: [xy]$/);
    expect(err("FROM a AS x\nCOPY --from=x /a /a\n").reason).toBe("circular dependency detected on stage: x");
  });

  it("rejects bad stage references", () => {
    expect(err("FROM a\nCOPY --from=3 /a /a\n").reason).toBe("invalid stage index 3");
    const e = err("FROM a\nCOPY --from=No_Such:stage /a /a\n");
    expect(e.reason).toMatch(/--from=No_Such:stage is neither a build stage nor a valid image reference/);
    expect([e.line, e.column]).toEqual([2, 6]);
    expect(err("FROM a\nCOPY --from=${X} /a /a\n").reason).toMatch(/variable expansion is not supported for --from/);
    expect(err("FROM a\nRUN --mount=from=$X,target=/x true\n").reason).toMatch(/'from' doesn't support variable expansion/);
  });

  it("rejects stage-name and FROM errors with locations", () => {
    expect(err("FROM a AS 1x\n").reason).toMatch(/invalid name for build stage: "1x"/);
    expect(err("FROM a AS b c\n").reason).toMatch(/FROM requires either one or three arguments/);
    expect(err("FROM\n").reason).toMatch(/FROM requires either one or three arguments/);
    expect(err("FROM a b\n").reason).toMatch(/FROM requires either one or three arguments/);
    const dup = err("FROM a AS b\nRUN x\nFROM c AS B\n");
    expect(dup.reason).toBe('duplicate stage name "b" (already used on line 1)');
    expect([dup.line, dup.column]).toEqual([3, 11]);
    expect(err("FROM Builder\n").reason).toMatch(/repository name must be lowercase/);
    expect(err("FROM a AS builder\nFROM Builder\n").reason).toMatch(/stage names are lower case: use builder/);
  });

  it("requires FROM before other instructions and at least one stage", () => {
    const e = err("ARG A\nRUN x\nFROM a\n");
    expect(e.reason).toMatch(/^no build stage in current context: RUN must come after a FROM/);
    expect(e.line).toBe(2);
    expect(err("ARG A\n").reason).toMatch(/dockerfile contains no stages to build/);
  });

  it("keeps words unexpanded", () => {
    const r = ir("FROM a\nENV A=$B\nCOPY $SRC ${DST:-/d}\n");
    expect(r.stages[0].instructions[0]).toMatchObject({ pairs: [{ key: "A", value: "$B" }] });
    expect(r.stages[0].instructions[1]).toMatchObject({ sources: ["$SRC"], dest: "${DST:-/d}" });
  });
});
