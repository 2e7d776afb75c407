import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { type BuildFlags, planBuild, type PlanEnv } from "./build-plan.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync("/dev/shm/tbuild-plan-");
  mkdirSync(join(dir, "ctx"));
  writeFileSync(join(dir, "ctx/Dockerfile"), "FROM base\n");
  writeFileSync(join(dir, "other.Dockerfile"), "FROM other\n");
  writeFileSync(join(dir, "secret.txt"), "s3cret");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const defaults: BuildFlags = { cache: true, progress: "auto", executor: "auto", snapshotter: "auto" };
function plan(flags: Partial<BuildFlags>, context = "ctx", env: Partial<PlanEnv> = {}) {
  return planBuild(context, { ...defaults, ...flags }, {
    cwd: dir,
    env: {},
    readStdin: () => "FROM stdin\n",
    explicitBuild: true,
    ...env,
  });
}

describe("planBuild", () => {
  it("defaults to the context's Dockerfile and the local store", () => {
    const p = plan({});
    expect(p.options).toEqual({ context: join(dir, "ctx"), dockerfile: join(dir, "ctx/Dockerfile"), outputs: [{ type: "store" }] });
    expect(p.dockerfile).toEqual({ name: "ctx/Dockerfile", text: "FROM base\n" });
    expect(p.stored).toBe(true);
    expect(p.progress).toBe("auto");
  });

  it("maps every flag onto BuildOptions", () => {
    const p = plan(
      {
        file: "other.Dockerfile",
        tag: ["app:1", "app:latest", "app:1"],
        buildArg: ["A=1", "FROM_ENV", "NOT_SET"],
        target: "runtime",
        cache: false,
        cacheFilter: ["builder"],
        platform: "linux/x86_64",
        label: ["k=v"],
        secret: ["id=s,src=secret.txt", "id=t,env=TOKEN"],
        network: "none",
        output: ["type=oci,dest=out/app.tar", "rootfs"],
        push: true,
        insecureRegistry: ["reg:5000"],
        executor: "runc",
        snapshotter: "copy",
        root: "store",
        iidfile: "iid",
        quiet: true,
      },
      "ctx",
      { env: { FROM_ENV: "e", TOKEN: "x" } },
    );
    expect(p.options).toEqual({
      context: join(dir, "ctx"),
      dockerfile: join(dir, "other.Dockerfile"),
      tags: ["app:1", "app:latest"],
      buildArgs: { A: "1", FROM_ENV: "e" },
      target: "runtime",
      noCache: true,
      noCacheFilter: ["builder"],
      platform: "linux/amd64",
      labels: { k: "v" },
      secrets: [{ id: "s", src: join(dir, "secret.txt") }, { id: "t", env: "TOKEN" }],
      network: "none",
      insecureRegistries: ["reg:5000"],
      executor: "runc",
      snapshotter: "copy",
      root: join(dir, "store"),
      outputs: [
        { type: "oci", dest: join(dir, "out/app.tar") },
        { type: "local", dest: join(dir, "rootfs") },
        { type: "registry", name: "app:1" },
        { type: "registry", name: "app:latest" },
      ],
    });
    expect(p.stored).toBe(false);
    expect(p.quiet).toBe(true);
    expect(p.progress).toBe("quiet");
    expect(p.iidfile).toBe(join(dir, "iid"));
  });

  it("maps the resource limits of RUN steps and refuses bad ones", () => {
    const p = plan({ ulimit: ["nofile=1024:2048", "core=0", "nproc=-1"], memory: "512m", memorySwap: "-1", pidsLimit: "100" });
    expect(p.options.ulimits).toEqual([
      { name: "nofile", soft: 1024, hard: 2048 },
      { name: "core", soft: 0, hard: 0 },
      { name: "nproc", soft: "unlimited", hard: "unlimited" },
    ]);
    expect(p.options.memory).toBe(512 * 1024 * 1024);
    expect(p.options.memorySwap).toBe(-1);
    expect(p.options.pidsLimit).toBe(100);
    expect(plan({ memory: "1g", memorySwap: "2g" }).options.memorySwap).toBe(2 * 1024 ** 3);
    for (const bad of [
      { ulimit: ["nofile"] }, { ulimit: ["bogus=1"] }, { ulimit: ["nofile=2:1"] }, { ulimit: ["nofile=1", "nofile=2"] }, { ulimit: ["nofile=x"] },
      { memory: "1k" }, { memory: "lots" }, { memorySwap: "1g" }, { memory: "1g", memorySwap: "512m" }, { pidsLimit: "0" }, { pidsLimit: "ten" },
    ] as Partial<BuildFlags>[]) {
      expect(() => plan(bad), JSON.stringify(bad)).toThrow(UsageError);
    }
  });

  it("takes buildx's entitlements", () => {
    expect(plan({ allow: ["security.insecure", "network.host"] }).options.allow).toEqual(["security.insecure"]);
    expect(plan({ allow: ["network.host"] }).options.allow).toBeUndefined();
    expect(() => plan({ allow: ["root.everything"] })).toThrow(/unknown entitlement/);
  });

  it("keeps the store output when only --push is given", () => {
    expect(plan({ tag: ["r/a"], push: true }).options.outputs).toEqual([{ type: "store" }, { type: "registry", name: "r/a" }]);
  });

  it("reads the Dockerfile from stdin for -f -", () => {
    const p = plan({ file: "-" });
    expect(p.options.dockerfileText).toBe("FROM stdin\n");
    expect(p.options.dockerfile).toBeUndefined();
  });

  it.each<[string, Partial<BuildFlags>, string, RegExp]>([
    ["missing context", {}, "nope", /build context nope not found/],
    ["context is a file", {}, "secret.txt", /not a directory/],
    ["stdin context", {}, "-", /stdin is not supported/],
    ["git context", {}, "https://github.com/a/b.git", /remote build contexts/],
    ["missing -f", { file: "missing.Dockerfile" }, "ctx", /cannot find the Dockerfile missing.Dockerfile/],
    ["--push without tags", { push: true }, "ctx", /--push needs at least one --tag/],
    ["missing secret file", { secret: ["id=a,src=none.txt"] }, "ctx", /--secret a: file .* not found/],
    ["duplicate secret", { secret: ["id=a,src=secret.txt", "id=a,src=secret.txt"] }, "ctx", /given twice/],
    ["two outputs one file", { output: ["type=oci,dest=x.tar", "type=docker,dest=x.tar"] }, "ctx", /two outputs write to/],
    ["bad output", { output: ["type=nope,dest=x"] }, "ctx", /unknown type/],
    ["empty tag", { tag: [" "] }, "ctx", /--tag: empty name/],
    ["bad platform", { platform: "linux" }, "ctx", /os\/arch/],
  ])("rejects %s as a usage error", (_name, flags, context, re) => {
    let err: unknown;
    try {
      plan(flags, context);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(re);
  });

  it("calls an unknown word an unknown command when build was implied", () => {
    expect(() => plan({}, "imagez", { explicitBuild: false })).toThrow(/unknown command 'imagez'/);
    expect(() => plan({}, "imagez", { explicitBuild: true })).toThrow(/build context imagez not found/);
  });
});
