// The bundled `tbuild` (packages/cli/bundle, made by `npm run build` with esbuild) is what
// the package's bin and the README's demo run: it must work like the unbundled one,
// including the tar worker thread it starts from a file next to its code. Needs root.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";

const repo = path.resolve(__dirname, "..");
const bundle = path.join(repo, "packages/cli/bundle/main.js");
const work = mkdtempSync("/dev/shm/tbuild-bundle-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tbuild = (...args: string[]) => execFileSync("node", [bundle, "--root", path.join(work, "store"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("the bundled tbuild", () => {
  it("imports a base, builds with COPY and RUN, and exports a rootfs", () => {
    expect(tbuild("version")).toContain("tbuild version");
    const rootfs = path.join(work, "rootfs.tar");
    execFileSync("bash", [path.join(repo, "fixtures/base/busybox-rootfs.sh"), rootfs], { stdio: "pipe" });
    tbuild("import", rootfs, "busybox:latest");
    const ctx = path.join(work, "ctx");
    execFileSync("mkdir", ["-p", ctx]);
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM busybox\nCOPY data.bin /data.bin\nRUN wc -c < /data.bin > /size\n");
    writeFileSync(path.join(ctx, "data.bin"), Buffer.alloc(3 << 20, 7));
    const out = path.join(work, "out");
    const id = tbuild("build", "-q", "-o", `type=local,dest=${out}`, ctx).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(path.join(out, "size"), "utf8").trim()).toBe(String(3 << 20));
    expect(tbuild("build", "-q", "-t", "bundled:1", ctx).trim()).toBe(id);
    const saved = path.join(work, "img.tar");
    tbuild("save", "bundled:1", "-o", saved);
    expect(execFileSync("skopeo", ["inspect", `oci-archive:${saved}`], { encoding: "utf8" })).toContain('"Layers"');
  });

  it("a cached local build loads neither the remote backend (gRPC over http2, protobuf) nor the built-ins it does not use", () => {
    // Node's own module list at exit names the built-in modules the process loaded.
    const list = path.join(work, "modules.txt");
    const preload = path.join(work, "modules.cjs");
    writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`);
    const ctx = path.join(work, "ctx");
    execFileSync("node", ["-r", preload, bundle, "--root", path.join(work, "store"), "build", "-q", ctx], { stdio: "pipe" });
    const loaded = readFileSync(list, "utf8").split("\n");
    expect(loaded).toContain("NativeModule fs");
    expect(loaded).not.toContain("NativeModule http2");
    // Nor the HTTP client and TLS: those are loaded by the first registry request or ADD <url>.
    expect(loaded).not.toContain("NativeModule https");
    expect(loaded).not.toContain("NativeModule tls");
    // A cached build starts no process, compresses nothing and starts no worker: those
    // built-ins load on first use (scripts/bundle.mjs, lazy built-ins).
    expect(loaded).not.toContain("NativeModule child_process");
    expect(loaded).not.toContain("NativeModule zlib");
    expect(loaded).not.toContain("NativeModule worker_threads");
  });

  it("runs with V8's code cache: written when missing or unusable, kept when accepted, never required", () => {
    const parent = mkdtempSync("/dev/shm/tbuild-bundle-copy-");
    chmodSync(parent, 0o755); // traversable by the unprivileged user below
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    const copy = path.join(parent, "bundle");
    cpSync(path.dirname(bundle), copy, { recursive: true });
    const main = path.join(copy, "main.js");
    const cache = path.join(copy, "tbuild.js.code-cache");
    const version = () => execFileSync("node", [main, "--version"], { encoding: "utf8", env: { ...process.env, TBUILD_WRITE_CODE_CACHE: "" } });
    expect(existsSync(cache)).toBe(true); // the build's warm-up wrote it
    const before = statSync(cache);
    expect(version()).toContain("tbuild version");
    expect(statSync(cache).ino).toBe(before.ino); // accepted by V8: not written again
    writeFileSync(cache, Buffer.alloc(before.size, 1)); // garbage of the right size: V8 rejects it
    expect(version()).toContain("tbuild version");
    const rewritten = statSync(cache);
    expect(rewritten.ino).not.toBe(before.ino);
    expect(readFileSync(cache).equals(Buffer.alloc(before.size, 1))).toBe(false);
    rmSync(cache);
    expect(version()).toContain("tbuild version");
    expect(existsSync(cache)).toBe(true);
    // A directory this user cannot write (an installed package) is left alone.
    rmSync(cache);
    chmodSync(copy, 0o555);
    try {
      const asNobody = execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "node", main, "--version"], { encoding: "utf8", env: { PATH: process.env.PATH!, HOME: "/nonexistent" } });
      expect(asNobody).toContain("tbuild version");
      expect(existsSync(cache)).toBe(false);
    } finally {
      chmodSync(copy, 0o755);
    }
  });

  it("keeps a code cache per command, made from source by its first run, smaller than the build's", () => {
    const parent = mkdtempSync("/dev/shm/tbuild-bundle-copy-");
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    const copy = path.join(parent, "bundle");
    cpSync(path.dirname(bundle), copy, { recursive: true });
    for (const f of readdirSync(copy)) if (/^tbuild\.js\.[a-z-]+\.code-cache$/.test(f)) rmSync(path.join(copy, f)); // as bundled
    const images = () => execFileSync("node", [path.join(copy, "main.js"), "--root", path.join(work, "store"), "images"], { encoding: "utf8", env: { ...process.env, TBUILD_WRITE_CODE_CACHE: "" } });
    const own = path.join(copy, "tbuild.js.images.code-cache");
    const buildCache = statSync(path.join(copy, "tbuild.js.code-cache"));
    expect(images()).toContain("bundled");
    expect(existsSync(own)).toBe(true);
    const first = statSync(own);
    // Compiled from source, not on top of the build's cache: it holds only what `images` ran.
    expect(first.size).toBeLessThan(buildCache.size * 0.8);
    expect(images()).toContain("bundled");
    expect(statSync(own).ino).toBe(first.ino); // accepted: not written again
    expect(statSync(path.join(copy, "tbuild.js.code-cache")).ino).toBe(buildCache.ino); // the build's is not touched
  });

  it("ends quietly with 141 when its reader goes away, as docker's CLI dies of SIGPIPE", async () => {
    // `tbuild build . 2>&1 | head -2`: progress keeps coming after the reader closed the pipe.
    // Node reports that as an unhandled EPIPE error (a stack trace, exit 1); tbuild stops as
    // a SIGPIPE'd docker does.
    const ctx = path.join(work, "ctx");
    const child = spawn("node", [bundle, "--root", path.join(work, "store"), "build", "--progress", "plain", "--no-cache", ctx], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.once("data", () => child.stderr.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(141);
    expect(stdout).toBe("");
  });

  it("a build does not run the container runtime (@tbuild/runtime is initialised lazily); ps does", () => {
    // V8's precise coverage (NODE_V8_COVERAGE) counts the calls of every function. In the
    // bundle, a lazily initialised module's code runs in a function esbuild names after the
    // module's file (packages/runtime/dist/….js): called means the module was loaded.
    const modulesRun = (...args: string[]): string[] => {
      const dir = mkdtempSync(path.join(work, "coverage-"));
      execFileSync("node", [bundle, "--root", path.join(work, "store"), ...args], { stdio: "pipe", env: { ...process.env, NODE_V8_COVERAGE: dir } });
      const scripts = readdirSync(dir).flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] }).result);
      return scripts
        .filter((s) => s.url.endsWith("/bundle/tbuild.js"))
        .flatMap((s) => s.functions.filter((f) => f.ranges[0]!.count > 0 && /^packages\/[a-z]+\/dist\//.test(f.functionName)).map((f) => f.functionName));
    };
    const build = modulesRun("build", "-q", path.join(work, "ctx"));
    expect(build.some((m) => m.startsWith("packages/builder/"))).toBe(true); // the probe sees modules load
    expect(build.filter((m) => m.startsWith("packages/runtime/"))).toEqual([]);
    expect(modulesRun("ps", "-a").some((m) => m.startsWith("packages/runtime/"))).toBe(true);
  });
});
