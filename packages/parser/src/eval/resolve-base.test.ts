import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../lexer/parser.js";
import { toStages } from "../ir/stages.js";
import { planStages } from "../ir/plan.js";
import { DockerfileSyntaxError } from "../errors.js";
import { resolveStageBase } from "./resolve-base.js";
import { defaultPlatform, formatPlatform, parsePlatform } from "./platform.js";

const platforms = {
  target: { os: "linux", architecture: "arm", variant: "v7" },
  build: { os: "linux", architecture: "amd64" },
};
const resolve = (src: string, args: Record<string, string> = {}, i = 0) => {
  const ir = toStages(parseDockerfile(src));
  return resolveStageBase(ir.stages[i], ir.globalArgs, new Map(Object.entries(args)), platforms);
};

describe("resolveStageBase", () => {
  it("expands the base with global ARGs and build args", () => {
    expect(resolve("ARG TAG=3.20\nFROM alpine:$TAG\n")).toEqual({ base: "alpine:3.20", usedArgs: { TAG: "3.20" } });
    expect(resolve("ARG TAG=3.20\nFROM alpine:$TAG\n", { TAG: "edge" })).toEqual({ base: "alpine:edge", usedArgs: { TAG: "edge" } });
    expect(resolve("ARG A=x\nARG B=${A}y\nFROM img:$B\n")).toMatchObject({ base: "img:xy" });
  });
  it("expands --platform with the automatic platform ARGs and normalises it", () => {
    expect(resolve("FROM --platform=$BUILDPLATFORM golang AS b\n")).toEqual({ base: "golang", platform: "linux/amd64", usedArgs: { BUILDPLATFORM: "linux/amd64" } });
    expect(resolve("FROM --platform=${TARGETOS}/${TARGETARCH}/${TARGETVARIANT} a\n").platform).toBe("linux/arm/v7");
    expect(resolve("FROM --platform=linux/aarch64 a\n").platform).toBe("linux/arm64");
  });
  it("does not see ARGs declared inside stages", () => {
    expect(() => resolve("FROM a\nARG X=y\nFROM b:$X\n", {}, 1)).toThrow(/invalid base image "b:"/);
  });
  it("rejects blank bases and platforms, and unparsable platforms", () => {
    const e = (() => {
      try {
        resolve("ARG IMG\nFROM $IMG\n");
      } catch (err) {
        return err as DockerfileSyntaxError;
      }
    })();
    expect(e?.reason).toBe("base name ($IMG) should not be blank");
    expect(e?.line).toBe(2);
    expect(() => resolve("FROM --platform=$NOPE a\n")).toThrow(/empty platform value from expression \$NOPE/);
    expect(() => resolve("FROM --platform=linux/a/b/c a\n")).toThrow(/failed to parse platform/);
  });
});

describe("planStages", () => {
  const ir = toStages(parseDockerfile("FROM a AS deps\nFROM b AS tools\nFROM deps AS build\nCOPY --from=tools /t /t\nFROM c AS unused\nFROM scratch\nCOPY --from=build /out /\n"));
  it("returns the stages a target needs, in file order", () => {
    expect(planStages(ir)).toEqual([0, 1, 2, 4]);
    expect(planStages(ir, "Build")).toEqual([0, 1, 2]);
    expect(planStages(ir, "unused")).toEqual([3]);
  });
  it("rejects unknown targets with a suggestion", () => {
    expect(() => planStages(ir, "buidl")).toThrow('target stage "buidl" could not be found (did you mean build?)');
  });
  it("rejects references to later stages only when they are built", () => {
    const fwd = toStages(parseDockerfile("FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\nFROM c AS z\n"));
    expect(planStages(fwd, "z")).toEqual([2]);
    expect(() => planStages(fwd, "x")).toThrow('cannot copy from stage "y", it needs to be defined before current stage "x"');
  });
});

describe("platforms", () => {
  it("parses and normalises", () => {
    expect(parsePlatform("linux/amd64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("Linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("linux/arm")).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
    expect(parsePlatform("linux/arm/6")).toEqual({ os: "linux", architecture: "arm", variant: "v6" });
    expect(parsePlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(parsePlatform("linux")).toEqual(defaultPlatform());
    expect(() => parsePlatform("linux/")).toThrow(/invalid platform specifier/);
  });
  it("formats", () => {
    expect(formatPlatform({ os: "linux", architecture: "arm", variant: "v7" })).toBe("linux/arm/v7");
    expect(formatPlatform({ os: "linux", architecture: "amd64" })).toBe("linux/amd64");
  });
  it("maps the host architecture to OCI names", () => {
    const p = defaultPlatform();
    expect(p.os).toBe("linux");
    expect(p.architecture).toBe({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" }[process.arch as string] ?? p.architecture);
  });
});
