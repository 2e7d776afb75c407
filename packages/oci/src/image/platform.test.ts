import { describe, expect, it } from "vitest";
import type { Descriptor, Index } from "../types.js";
import { compatiblePlatforms, formatPlatform, parsePlatform, platformRank, selectManifest } from "./platform.js";

const d = (n: string, platform: string): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${n.repeat(64)}`,
  size: 1,
  platform: parsePlatform(platform),
});
const pick = (entries: Descriptor[], want: string) => selectManifest({ schemaVersion: 2, manifests: entries } as Index, parsePlatform(want)).digest;

describe("containerd-style platform matching", () => {
  it("arm64 and arm64/v8 are one platform", () => {
    expect(platformRank(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" })).toBe(0);
    expect(platformRank(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64" })).toBe(0);
    expect(formatPlatform(parsePlatform("linux/arm64/v8"))).toBe("linux/arm64");
  });

  it("an arm variant runs the older ones, never a newer one", () => {
    expect(compatiblePlatforms(parsePlatform("linux/arm/v7")).map(formatPlatform)).toEqual(["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    expect(pick([d("1", "linux/arm/v6")], "linux/arm/v7")).toBe(`sha256:${"1".repeat(64)}`);
    expect(() => pick([d("1", "linux/arm/v7")], "linux/arm/v6")).toThrow(/no manifest for linux\/arm\/v6; it offers linux\/arm\/v7/);
  });

  it("prefers the exact variant whatever the order of the index", () => {
    expect(pick([d("1", "linux/arm/v5"), d("2", "linux/arm/v7"), d("3", "linux/arm/v6")], "linux/arm/v7")).toBe(`sha256:${"2".repeat(64)}`);
    expect(pick([d("1", "linux/arm/v5"), d("3", "linux/arm/v6")], "linux/arm/v7")).toBe(`sha256:${"3".repeat(64)}`);
  });

  it("arm64 falls back to 32-bit arm, amd64 to 386, only when nothing closer is offered", () => {
    expect(pick([d("1", "linux/arm/v7"), d("2", "linux/arm64/v8")], "linux/arm64")).toBe(`sha256:${"2".repeat(64)}`);
    expect(pick([d("1", "linux/arm/v7")], "linux/arm64")).toBe(`sha256:${"1".repeat(64)}`);
    expect(pick([d("1", "linux/386"), d("2", "linux/amd64")], "linux/amd64")).toBe(`sha256:${"2".repeat(64)}`);
    expect(pick([d("1", "linux/386")], "linux/amd64")).toBe(`sha256:${"1".repeat(64)}`);
    expect(() => pick([d("1", "linux/amd64")], "linux/386")).toThrow(/no manifest for linux\/386/);
  });

  it("amd64 micro-architecture levels run the lower ones; the os must match", () => {
    expect(platformRank(parsePlatform("linux/amd64/v3"), { os: "linux", architecture: "amd64", variant: "v2" })).toBe(1);
    expect(platformRank(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64", variant: "v2" })).toBe(-1);
    expect(platformRank(parsePlatform("linux/amd64"), { os: "windows", architecture: "amd64" })).toBe(-1);
    expect(platformRank(parsePlatform("linux/amd64"), { os: "unknown", architecture: "unknown" })).toBe(-1);
  });
});
