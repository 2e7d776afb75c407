// A project outside the workspace installs the packed @tbuild packages (npm pack), type-checks
// the README's snippets and an API script under `tsc --strict`, and runs a real build with
// it (issue 20). Needs root (the build), skopeo, the npm registry for the packages'
// third-party dependencies and @types/node, and built dist/ folders (`tsc -b`).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "..");
const packages = ["parser", "oci", "cache", "llb", "builder"] as const;
const tsc = path.join(repo, "node_modules/.bin/tsc");

describe("the packed packages, installed into a project outside the workspace", { timeout: 300_000 }, () => {
  let dir: string;
  const tarball = (p: string) => `tbuild-${p}-0.1.0.tgz`;
  beforeAll(() => {
    dir = mkdtempSync("/tmp/tbuild-install-");
    execFileSync("npm", ["pack", ...packages.flatMap((p) => ["-w", `packages/${p}`]), "--pack-destination", dir, "--silent"], { cwd: repo, stdio: "pipe" });
    // The project names only @tbuild/builder; overrides make its @tbuild dependencies come from
    // the tarballs too (never from the public registry, where those names are not ours).
    const overrides = Object.fromEntries(packages.filter((p) => p !== "builder").map((p) => [`@tbuild/${p}`, `file:./${tarball(p)}`]));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({
      name: "tbuild-consumer", private: true, type: "module",
      dependencies: { "@tbuild/builder": `file:./${tarball("builder")}` },
      devDependencies: { "@types/node": "^20" },
      overrides,
    }, null, 2));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, stdio: "pipe" });
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("packs each package self-contained: no path into the monorepo, no tests", () => {
    for (const p of packages) {
      const installed = path.join(dir, "node_modules/@tbuild", p);
      const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
      expect(manifest.exports["."].types).toBe("./dist/index.d.ts");
      expect(manifest.engines.node).toBe(">=20");
      for (const spec of Object.values<string>(manifest.dependencies ?? {})) expect(spec).not.toMatch(/^(file:|link:|workspace:|\.|\/)/);
      const files = execFileSync("find", [installed, "-name", "*.test.*"], { encoding: "utf8" });
      expect(files).toBe("");
    }
  });

  it("type-checks the README's snippets and an API script under --strict, and runs a build", () => {
    const readme = readFileSync(path.join(repo, "packages/builder/README.md"), "utf8");
    const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    snippets.forEach((code, i) => writeFileSync(path.join(dir, `readme-${i}.ts`), `${code}\nexport {};\n`));
    copyFileSync(path.join(repo, "test/package-install/api-check.ts"), path.join(dir, "api-check.ts"));
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext", types: ["node"], outDir: "out" },
      include: ["*.ts"],
    }));
    execFileSync(process.execPath, [tsc, "-p", dir], { cwd: dir, stdio: "pipe" });

    const context = path.join(dir, "ctx");
    mkdirSync(context);
    writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\nARG V=1\nCOPY a.txt /a.txt\nENV X=$V\n");
    writeFileSync(path.join(context, "a.txt"), "a\n");
    const root = path.join(dir, "store");
    const oci = path.join(dir, "image.oci.tar");
    const out = execFileSync(process.execPath, [path.join(dir, "out/api-check.js"), context, root, oci], { cwd: dir, encoding: "utf8" });
    const seen = JSON.parse(out);

    expect(seen.aborted).toEqual({ isBuildAbortedError: true, cause: "stop" });
    expect(readdirSync(dir)).not.toContain("store-never");
    expect(seen.steps).toEqual([
      ["[1/4] FROM scratch", "cached", true],
      ["[2/4] ARG V=1", "metadata", true],
      ["[3/4] COPY a.txt /a.txt", "ran", false],
      ["[4/4] ENV X=$V", "metadata", false],
    ]);
    expect(seen.rebuildAllCached).toBe(true);
    const inspected = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${oci}`], { encoding: "utf8" }));
    expect(seen.outputs).toEqual([
      { type: "store", names: ["docker.io/library/probe:1"], manifestDigest: expect.stringMatching(/^sha256:/), mediaType: "application/vnd.oci.image.manifest.v1+json" },
      { type: "oci", dest: oci, manifestDigest: inspected.Digest, mediaType: "application/vnd.oci.image.manifest.v1+json" },
    ]);
    expect(seen.exportResults).toEqual(seen.outputs);
    expect(seen.warnings).toEqual(["One or more build-args [NOPE] were not consumed"]);
    expect(seen.outcomes).toEqual([["build-error"], ["build-done"], ["build-done"], ["build-error"], ["build-error"], ["build-error"], ["build-error"]]);
    expect(seen.errors).toEqual({ syntax: true, target: "target", missing: "ERR_CONTEXT_MISSING", copy: "NOT_FOUND" });
  });
});
