// The bundled `tbuild` (packages/cli/bundle, made by `npm run build` with esbuild) is what
// the package's bin and the README's demo run: it must work like the unbundled one,
// including the tar worker thread it starts from a file next to its code. Needs root.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

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

  it("a local build does not load the remote backend (gRPC over http2, protobuf): it is a lazy chunk", () => {
    // Node's own module list at exit names the built-in modules the process loaded.
    const list = path.join(work, "modules.txt");
    const preload = path.join(work, "modules.cjs");
    writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join("\\n")));\n`);
    const ctx = path.join(work, "ctx");
    execFileSync("node", ["-r", preload, bundle, "--root", path.join(work, "store"), "build", "-q", ctx], { stdio: "pipe" });
    const loaded = readFileSync(list, "utf8").split("\n");
    expect(loaded).toContain("NativeModule fs");
    expect(loaded).not.toContain("NativeModule http2");
  });

  it("a build does not load the container runtime (@tbuild/runtime is a lazy chunk); ps does", () => {
    // The bundle files that hold the runtime: those naming its container-names folder.
    const dir = path.dirname(bundle);
    const runtimeFiles = readdirSync(dir).filter((f) => f.endsWith(".js") && readFileSync(path.join(dir, f), "utf8").includes('"container-names"'));
    expect(runtimeFiles.length).toBeGreaterThan(0);
    // An ESM loader hook (its own thread) lists every module file the process loads.
    const loadedFor = (...args: string[]) => {
      const list = path.join(work, `loaded-${args[0]}.txt`);
      writeFileSync(list, "");
      const hook = `import { appendFileSync } from "node:fs"; export async function load(url, context, next) { if (url.startsWith("file:")) appendFileSync(${JSON.stringify(list)}, url + "\\n"); return next(url, context); }`;
      const register = path.join(work, "register-hook.mjs");
      writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`);
      execFileSync("node", ["--import", register, bundle, "--root", path.join(work, "store"), ...args], { stdio: "pipe" });
      return readFileSync(list, "utf8").split("\n").filter(Boolean).map((u) => path.basename(new URL(u).pathname));
    };
    const build = loadedFor("build", "-q", path.join(work, "ctx"));
    expect(build).toContain("main.js");
    for (const f of runtimeFiles) expect(build).not.toContain(f);
    const ps = loadedFor("ps", "-a");
    expect(runtimeFiles.some((f) => ps.includes(f))).toBe(true);
  });
});
