// FROM words go through shell word processing before stages and images are resolved, as in
// BuildKit's dockerfile2llb (quotes removed): `FROM "img"`, `FROM al"pine"`, `FROM "stage"`.
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "./stages.js";
import { resolveStageBase } from "../eval/resolve-base.js";

const platforms = { target: { os: "linux", architecture: "amd64" }, build: { os: "linux", architecture: "amd64" } };
const bases = (src: string) => {
  const ir = toStages(parseDockerfile(src));
  return ir.stages.map((s) => ({ base: resolveStageBase(s, ir.globalArgs, new Map(), platforms).base, baseStage: s.baseStage }));
};

describe("FROM with quoted words", () => {
  it("removes double and single quotes from image names", () => {
    expect(bases('FROM "img"\n')).toEqual([{ base: "img", baseStage: undefined }]);
    expect(bases("FROM 'alpine:3.19'\n")).toEqual([{ base: "alpine:3.19", baseStage: undefined }]);
    expect(bases('FROM al"pine"\n')).toEqual([{ base: "alpine", baseStage: undefined }]);
  });

  it("links a quoted stage name to the stage", () => {
    const r = toStages(parseDockerfile('FROM busybox AS build\nFROM "build"\nFROM \'build\' AS two\n'));
    expect(r.stages[1]!.baseStage).toBe(0);
    expect(r.stages[1]!.dependencies).toEqual([{ stage: 0, via: "from", line: 2 }]);
    expect(r.stages[2]!.baseStage).toBe(0);
  });

  it("still rejects a quoted word that is no valid reference", () => {
    expect(() => toStages(parseDockerfile('FROM "Bad"\n'))).toThrow(/invalid base image/);
  });
});
