// Bundles the `tbuild` command into packages/cli/bundle/ with esbuild, then warms V8's code
// cache for it. What a command pays before its first event is Node's start plus loading our
// code; for a no-op rebuild that loading was a third of the time, most of it V8 parsing and
// compiling. So:
// - one CommonJS file (bundle/tbuild.js) instead of ~300 modules (module resolution dominated
//   start-up before) and instead of ES module chunks: Node 20 can cache the compiled code of a
//   script (vm.Script cachedData) but not of an ES module. Our code that only some commands
//   need stays behind esbuild's lazy module initialisers (the remote backend, compose …), so a
//   local build does not run it;
// - the large libraries only some commands use (VENDOR: the HTTP client, gRPC, protobuf,
//   YAML; 1.7 MB) are bundles of their own in bundle/vendor/, required when first used, so
//   tbuild.js — read and checked whole by every command — stays ~1.2 MB;
// - bundle/main.js, the bin, is packages/cli/src/launcher.ts (bundled as CommonJS): it runs
//   tbuild.js and the vendor bundles with their code caches (FILE.code-cache);
// - tbuild.js's cache is written here by a warm-up: a small FROM-scratch build and its no-op
//   rebuild in a throwaway store, so the functions a build calls are in it, compiled. A vendor
//   bundle's cache is written by the first command that uses it (bundle-loader.ts);
// - the warm workers (src/warm/): bundle/warm-worker.js, the CLI again with the worker around it,
//   started by bundle/warm.js (warm-launcher.ts) with its own cache, written by the same build
//   run in a worker; native/tbuild (the client on PATH) and native/warm.node come from
//   packages/cli/native.
// The tar worker of @tbuild/oci and the container monitor of @tbuild/runtime are entries of
// their own, because each is started from a file next to the code.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}packages/cli/bundle`;
rmSync(outdir, { recursive: true, force: true });
/** Vendor bundles: name → the import specifiers it serves (one bundle per library family, so
 * the subpaths of a package share one copy of its internals). */
const VENDOR = {
  grpc: ["@grpc/grpc-js"],
  protobuf: ["@bufbuild/protobuf", "@bufbuild/protobuf/codegenv2", "@bufbuild/protobuf/wkt"],
  yaml: ["yaml"],
};
const vendorOf = new Map(Object.entries(VENDOR).flatMap(([name, specs]) => specs.map((s) => [s, name])));

// Shared by every build below: CommonJS for Node 20, ASCII so the launcher can read latin1.
// import() of a built-in becomes a lazy require: the launcher's vm.Script has no loader for
// import() (every import() of our code and of vendored libraries is bundled the same way).
// Whitespace and syntax are minified (names are kept: error classes name themselves from
// `new.target.name`): every command reads the whole file, and on this kind of VM each fresh
// page costs ~10 us, so 1.5 -> 1.07 MB took ~5 ms off a no-op build's start-up.
const common = { minifyWhitespace: true, minifySyntax: true, bundle: true, format: "cjs", platform: "node", target: "node20", charset: "ascii", supported: { "dynamic-import": false }, sourcemap: "linked", metafile: true, logLevel: "warning" };

// Each vendor bundle exports its specifiers' modules by specifier.
for (const [name, specs] of Object.entries(VENDOR)) {
  await build({
    ...common,
    stdin: { contents: `module.exports = {${specs.map((s) => `${JSON.stringify(s)}: require(${JSON.stringify(s)})`).join(", ")}};`, resolveDir: root, sourcefile: `vendor-${name}.cjs` },
    outfile: `${outdir}/vendor/${name}.js`,
  });
}

/** Imports of a vendored specifier become a require of its vendor bundle (kept external). */
const vendorPlugin = {
  name: "vendor",
  setup(b) {
    b.onResolve({ filter: /^[@a-z]/ }, (args) => (vendorOf.has(args.path) ? { path: args.path, namespace: "vendor" } : undefined));
    b.onResolve({ filter: /^\.\/vendor\//, namespace: "vendor" }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "vendor" }, (args) => ({ contents: `module.exports = require("./vendor/${vendorOf.get(args.path)}.js")[${JSON.stringify(args.path)}];`, loader: "js" }));
  },
};

/**
 * Built-in modules that cost milliseconds to load and that most commands never use become
 * lazy: each import resolves to a stand-in whose first property access requires the real
 * module. esbuild's CommonJS output reads an import's properties at the call site
 * (`(0, import_x.spawn)(…)`), so every use still reaches the real function, but a no-op build
 * no longer pays for child_process (commander requires it at its top, for executable
 * subcommands we do not have; it brings net, dgram and streams), zlib or worker_threads
 * (each 2–5 ms of a ~50 ms start-up, measured on Node 20). A module that extends a class of
 * one of these at its top level still loads it there, as before.
 */
const LAZY_BUILTINS = ["child_process", "zlib", "worker_threads"];
const lazyBuiltinsPlugin = {
  name: "lazy-builtins",
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);
    b.onResolve({ filter, namespace: "file" }, (args) => ({ path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: "js" }));
  },
};
/**
 * A Proxy standing for built-in `name`: it loads the module on first use and forwards to it.
 * esbuild copies a CommonJS module's keys when ESM code imports it (`__toESM`), so the keys
 * and descriptors are answered without loading: the names are those of the module in the Node
 * that bundles (the one that runs the bundle: the code cache is tied to it too), each an
 * accessor that reads the real module when called.
 */
function lazyBuiltinSource(name) {
  const keys = Object.getOwnPropertyNames(require(`node:${name}`));
  return `let real;
const load = () => (real ??= require(${JSON.stringify(`node:${name}`)}));
const keys = ${JSON.stringify(keys)};
const known = new Set(keys);
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, key) => (known.has(key) ? { get: () => load()[key], enumerable: true, configurable: true } : undefined),
});
`;
}

const result = await build({
  ...common,
  plugins: [vendorPlugin, lazyBuiltinsPlugin],
  entryPoints: {
    tbuild: `${root}packages/cli/dist/main.js`,
    // A warm worker (src/warm/worker.ts): the whole CLI again, loaded ahead of a command.
    "warm-worker": `${root}packages/cli/dist/warm/worker.js`,
    "tar-worker": `${root}packages/oci/dist/layer/tar-worker.js`,
    // A detached container's monitor is started from a file next to the code (runtime's operations.ts).
    "tbuild-monitor": `${root}packages/runtime/dist/tbuild-monitor.js`,
  },
  outdir,
  // import.meta.url has no CommonJS equivalent in esbuild's output: it is the bundle file's URL.
  define: { "import.meta.url": "__tbuildImportMetaUrl" },
  banner: { js: "var __tbuildImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// A vendored library reached by a specifier VENDOR does not list (a new subpath) would be
// bundled a second time into tbuild.js, with its own copy of the library's state.
const vendoredRoots = Object.values(VENDOR).flat().map((s) => s.split("/").slice(0, s.startsWith("@") ? 2 : 1).join("/"));
for (const [out, o] of Object.entries(result.metafile.outputs)) {
  const twice = Object.keys(o.inputs).filter((i) => vendoredRoots.some((r) => i.includes(`node_modules/${r}/`)));
  if (twice.length) throw new Error(`${out} bundles vendored code again (${twice[0]}): add its import specifier to VENDOR in scripts/bundle.mjs`);
}
writeFileSync(`${outdir}/package.json`, `${JSON.stringify({ type: "commonjs" })}\n`);
// The bin: the launcher and the one module it shares with the CLI (command-word.ts: which
// command runs, for its code cache), not minified.
await build({ entryPoints: [`${root}packages/cli/dist/launcher.js`], outfile: `${outdir}/main.js`, bundle: true, format: "cjs", platform: "node", target: "node20", charset: "ascii", logLevel: "warning" });
chmodSync(`${outdir}/main.js`, 0o755);
// A warm worker's starter: the same loader, for warm-worker.js.
await build({ entryPoints: [`${root}packages/cli/dist/warm-launcher.js`], outfile: `${outdir}/warm.js`, bundle: true, format: "cjs", platform: "node", target: "node20", charset: "ascii", logLevel: "warning" });

// The sandbox helper and the addons (context walk, extended attributes) are found next to the code that runs them
// (enter-helper.ts, dir-stats.ts); the warm-start
// client finds main.js and warm.js one directory up from itself, and warm.js its addon in
// native/ (packages/cli/native).
mkdirSync(`${outdir}/native`, { recursive: true });
for (const built of [`${root}packages/builder/native/tbuild-enter`, `${root}packages/cache/native/dir-stats.node`, `${root}packages/oci/native/xattrs.node`, `${root}packages/cli/native/tbuild`, `${root}packages/cli/native/warm.node`, `${root}packages/cli/native/warm-wait`]) {
  if (existsSync(built)) copyFileSync(built, `${outdir}/native/${path.basename(built)}`);
}

warmCodeCache();

/**
 * Runs a small build and its no-op rebuild; the rebuild writes bundle/tbuild.js.code-cache.
 * Then the same build in a warm worker, which writes bundle/warm-worker.js.code-cache.
 */
function warmCodeCache() {
  const work = mkdtempSync(path.join(os.tmpdir(), "tbuild-warm-"));
  const main = `${outdir}/main.js`;
  try {
    const ctx = path.join(work, "ctx");
    mkdirSync(path.join(ctx, "conf"), { recursive: true });
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nENV APP=/app\nWORKDIR /app\nCOPY hello.txt ./\nCOPY conf/ ./conf/\nLABEL warm=1\n");
    writeFileSync(path.join(ctx, "hello.txt"), "hello\n");
    writeFileSync(path.join(ctx, "conf", "a.conf"), "a=1\n");
    const run = (write) =>
      execFileSync(process.execPath, [main, "--root", path.join(work, "store"), "build", "--progress", "rawjson", "-t", "warm:1", ctx], {
        stdio: "pipe",
        env: { ...process.env, TBUILD_WRITE_CODE_CACHE: write ? "1" : "0" },
      });
    run(false);
    run(true);
    warmWorkerCodeCache(work, ctx);
  } catch (e) {
    // Best effort (a machine where this user cannot build): cache what `--version` compiles.
    console.warn(`bundle: warm-up build failed (${String(e.stderr ?? e.message).split("\n")[0]}); caching start-up code only`);
    execFileSync(process.execPath, [main, "--version"], { stdio: "pipe", env: { ...process.env, TBUILD_WRITE_CODE_CACHE: "1" } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(`${outdir}/tbuild.js.code-cache`)) throw new Error("bundle: no code cache was written");
}

/** Kills the processes whose command line mentions `needle`; how many there were. */
function killAll(needle) {
  let killed = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) {
        process.kill(Number(pid), "SIGKILL");
        killed++;
      }
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * Workers of their own (a private runtime directory in `work`, TBUILD_WRITE_CODE_CACHE=1 in
 * their environment), one build through the client in a fresh store, and the worker that ran it
 * writes its code cache at exit; then those workers are stopped.
 */
function warmWorkerCodeCache(work, ctx) {
  const client = `${outdir}/native/tbuild`;
  if (!existsSync(client) || !existsSync(`${outdir}/native/warm.node`)) return;
  const runtime = path.join(work, "run");
  mkdirSync(runtime, { mode: 0o700 });
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, TBUILD_WRITE_CODE_CACHE: "1" };
  delete env.TBUILD_WARM;
  const cache = `${outdir}/warm-worker.js.code-cache`;
  try {
    execFileSync(process.execPath, [`${outdir}/warm.js`, "--seed"], { env, stdio: "ignore" });
    execFileSync(client, ["--root", path.join(work, "store-worker"), "build", "--progress", "rawjson", "-t", "warm:1", ctx], { env, stdio: "pipe" });
    // Written at the worker's exit, after its client was told the exit code.
    for (let i = 0; i < 200 && !existsSync(cache); i++) execFileSync("sleep", ["0.05"]);
  } finally {
    // Pass after pass: a worker ending its command starts successors after a pass has listed the processes.
    for (let pass = 0; pass < 100 && killAll(runtime) > 0; pass++) execFileSync("sleep", ["0.02"]);
  }
  if (!existsSync(cache)) console.warn("bundle: the warm worker wrote no code cache; workers will compile as they go");
}
