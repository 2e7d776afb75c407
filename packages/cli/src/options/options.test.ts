import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { splitCsv } from "./csv.js";
import { parseDuration, parseUntil } from "./duration.js";
import { parseBuildArgs, parseLabels } from "./key-value.js";
import { parseOutputSpec } from "./output-spec.js";
import { parseCacheExport, parseCacheImport } from "./cache-spec.js";
import { parsePlatform } from "./platform.js";
import { parseSecretSpec } from "./secret.js";
import { parseSize } from "./size.js";

describe("splitCsv", () => {
  it("splits plain fields and keeps empty ones", () => {
    expect(splitCsv("a,b,,c")).toEqual(["a", "b", "", "c"]);
  });
  it("honours quoted fields with commas and doubled quotes", () => {
    expect(splitCsv('"type=registry,name=a,b",x')).toEqual(["type=registry,name=a,b", "x"]);
    expect(splitCsv('"say ""hi""",z')).toEqual(['say "hi"', "z"]);
  });
  it("accepts key=\"quoted,value\" as docker users write it", () => {
    expect(splitCsv('type=registry,name="r/a,r/b",push=true')).toEqual(["type=registry", "name=r/a,r/b", "push=true"]);
  });
  it("rejects an unterminated quote", () => {
    expect(() => splitCsv('"abc')).toThrow(UsageError);
  });
});

describe("parseOutputSpec", () => {
  it("parses each type", () => {
    expect(parseOutputSpec("type=oci,dest=out.tar")).toEqual([{ type: "oci", dest: "out.tar" }]);
    expect(parseOutputSpec("type=oci,dest=o.tar,compression=zstd")).toEqual([{ type: "oci", dest: "o.tar", compression: "zstd" }]);
    expect(parseOutputSpec("type=oci,dest=o.tar,compression=uncompressed")).toEqual([{ type: "oci", dest: "o.tar", compression: "none" }]);
    expect(parseOutputSpec("type=oci,dest=layout,tar=false")).toEqual([{ type: "oci-layout", dest: "layout" }]);
    expect(parseOutputSpec("type=docker,dest=d.tar")).toEqual([{ type: "docker", dest: "d.tar" }]);
    expect(parseOutputSpec("type=local,dest=rootfs")).toEqual([{ type: "local", dest: "rootfs" }]);
    expect(parseOutputSpec("type=tar,dest=fs.tar")).toEqual([{ type: "tar", dest: "fs.tar" }]);
    expect(parseOutputSpec("type=registry,name=localhost:5000/app:1")).toEqual([{ type: "registry", name: "localhost:5000/app:1" }]);
  });
  it("treats a bare path as type=local, like docker -o DIR", () => {
    expect(parseOutputSpec("./out")).toEqual([{ type: "local", dest: "./out" }]);
  });
  it("expands several registry names and the insecure flag", () => {
    expect(parseOutputSpec('type=registry,"name=r/a,r/b",registry.insecure=true')).toEqual([
      { type: "registry", name: "r/a", insecure: true },
      { type: "registry", name: "r/b", insecure: true },
    ]);
  });
  it("maps buildx's type=image,push=true to a registry output", () => {
    expect(parseOutputSpec("type=image,name=r/a,push=true")).toEqual([{ type: "registry", name: "r/a" }]);
    expect(() => parseOutputSpec("type=image,name=r/a")).toThrow(/push=true/);
  });
  it.each([
    ["type=zip,dest=x", /unknown type "zip"/],
    ["dest=x", /missing type=/],
    ["type=oci", /missing dest=/],
    ["type=oci,dest=x,name=y", /unknown key "name"/],
    ["type=oci,dest=x,compression=lz4", /unknown compression/],
    ["type=registry", /missing name=REF/],
    ["type=oci,dest=a,dest=b", /given twice/],
    ["type=oci,dest=-", /stdout/],
    ["-", /stdout/],
    ["type=oci,novalue", /key=value/],
  ])("rejects %s", (spec, re) => {
    expect(() => parseOutputSpec(spec)).toThrow(re);
  });
});

describe("parseSecretSpec", () => {
  const env = { TOKEN: "t0k3n", OTHER: "x" };
  it("accepts src, source and env", () => {
    expect(parseSecretSpec("id=npm,src=/tmp/npmrc", env)).toEqual({ id: "npm", src: "/tmp/npmrc" });
    expect(parseSecretSpec("id=npm,source=/tmp/npmrc", env)).toEqual({ id: "npm", src: "/tmp/npmrc" });
    expect(parseSecretSpec("id=tok,env=TOKEN", env)).toEqual({ id: "tok", env: "TOKEN" });
  });
  it("follows buildx for type=env and a bare id", () => {
    expect(parseSecretSpec("type=env,id=TOKEN", env)).toEqual({ id: "TOKEN", env: "TOKEN" });
    expect(parseSecretSpec("type=env,id=t,src=OTHER", env)).toEqual({ id: "t", env: "OTHER" });
    expect(parseSecretSpec("id=TOKEN", env)).toEqual({ id: "TOKEN", env: "TOKEN" });
  });
  it.each([
    ["src=/x", /missing id=/],
    ["id=a,src=/x,env=TOKEN", /either src= or env=/],
    ["id=MISSING", /not set/],
    ["id=a,env=MISSING", /\$MISSING is not set/],
    ["id=a,type=ssh", /unknown type/],
    ["id=a,mode=0400", /unknown key "mode"/],
  ])("rejects %s", (spec, re) => {
    expect(() => parseSecretSpec(spec, env)).toThrow(re);
  });
});

describe("build args and labels", () => {
  it("takes bare build-arg values from the environment and leaves unset ones out", () => {
    expect(parseBuildArgs(["A=1", "B", "C", "D=x=y", "E="], { B: "from-env" })).toEqual({ A: "1", B: "from-env", D: "x=y", E: "" });
  });
  it("lets a later flag win", () => {
    expect(parseBuildArgs(["A=1", "A=2"], {})).toEqual({ A: "2" });
  });
  it("rejects an empty name", () => {
    expect(() => parseBuildArgs(["=1"], {})).toThrow(UsageError);
  });
  it("parses labels, a bare key being empty", () => {
    expect(parseLabels(["a=1", "b", "c=x=y"])).toEqual({ a: "1", b: "", c: "x=y" });
    expect(() => parseLabels(["=v"])).toThrow(/missing key/);
  });
});

describe("parseSize", () => {
  it.each([
    ["512", 512],
    ["1kb", 1024],
    ["100MB", 100 * 1024 ** 2],
    ["10GB", 10 * 1024 ** 3],
    ["1.5GiB", 1.5 * 1024 ** 3],
    ["2 t", 2 * 1024 ** 4],
  ])("%s", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it.each(["", "GB", "10XB", "-1GB", "1e3"])("rejects %j", (text) => {
    expect(() => parseSize(text, "--keep-storage")).toThrow(/--keep-storage: invalid size/);
  });
});

describe("durations", () => {
  it.each([
    ["24h", 86_400_000],
    ["1h30m", 5_400_000],
    ["90s", 90_000],
    ["500ms", 500],
    ["7d", 7 * 86_400_000],
    ["1.5h", 5_400_000],
    ["0", 0],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(["", "h", "24", "24x", "1h 30m", "-1h"])("rejects %j", (text) => {
    expect(() => parseDuration(text, "until")).toThrow(/until: invalid duration/);
  });
  it("turns until= values into cut-off times", () => {
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(parseUntil("24h", now)).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect(parseUntil("2025-12-31T00:00:00Z", now)).toBe(Date.parse("2025-12-31T00:00:00Z"));
    expect(parseUntil("1700000000", now)).toBe(1_700_000_000_000);
    expect(() => parseUntil("2025-13-45", now)).toThrow(/invalid timestamp/);
  });
});

describe("parsePlatform", () => {
  it("normalises architecture aliases", () => {
    expect(parsePlatform("linux/x86_64")).toBe("linux/amd64");
    expect(parsePlatform("linux/arm/v7")).toBe("linux/arm/v7");
  });
  it.each(["linux", "linux/amd64,linux/arm64", "linux//x", "a/b/c/d"])("rejects %j", (p) => {
    expect(() => parsePlatform(p)).toThrow(UsageError);
  });
});

describe("parseCacheImport / parseCacheExport", () => {
  it("reads buildx's forms", () => {
    expect(parseCacheImport("user/app:cache")).toEqual({ type: "registry", ref: "user/app:cache" });
    expect(parseCacheImport("type=registry,ref=r/a,registry.insecure=true")).toEqual({ type: "registry", ref: "r/a", insecure: true });
    expect(parseCacheImport("type=local,src=dir,tag=t")).toEqual({ type: "local", src: "dir", tag: "t" });
    expect(parseCacheExport("type=registry,ref=r/a,mode=max,compression=zstd,oci-mediatypes=false,ignore-error=true")).toEqual({
      type: "registry", ref: "r/a", mode: "max", compression: "zstd", ociMediatypes: false, ignoreError: true,
    });
    expect(parseCacheExport("type=local,dest=out")).toEqual({ type: "local", dest: "out" });
    expect(parseCacheExport("type=inline")).toEqual({ type: "inline" });
  });
  it("refuses what it cannot do, as usage errors", () => {
    expect(() => parseCacheExport("type=s3,bucket=b")).toThrow(/cache type "s3" is not supported/);
    expect(() => parseCacheExport("type=registry")).toThrow(/missing ref=/);
    expect(() => parseCacheExport("type=registry,ref=a,mode=all")).toThrow(/mode=all is not min or max/);
    expect(() => parseCacheExport("type=inline,mode=max")).toThrow(/only mode=min/);
    expect(() => parseCacheExport("r/a")).toThrow(/needs type=/);
    expect(() => parseCacheImport("type=local,src=d,bogus=1")).toThrow(UsageError);
  });
});
