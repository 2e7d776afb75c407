// Loading a bundle file (scripts/bundle.mjs) with V8's code cache (FILE.code-cache beside it),
// so a command does not parse and compile a megabyte of JavaScript before its first step: that
// was a third of a no-op rebuild's time. Node 20 has no compile cache for ES modules
// (module.enableCompileCache is Node 22), hence CommonJS and vm.Script here. Used by the two
// entry files: main.js (launcher.ts: a command, bundle/tbuild.js) and warm.js
// (warm-launcher.ts: a warm worker, bundle/warm-worker.js). Bundled into each, as CommonJS:
// `__dirname` and `module` are the entry file's.
//
// tbuild.js has a cache per command (tbuild.js.COMMAND.code-cache; a build's is
// tbuild.js.code-cache): V8 deserialises a whole cache before running anything, and a push
// needs ~600 KB of what a build compiled (~1 MB). A command without its own cache yet compiles
// from source and writes its own at exit where it may write, and uses the build's elsewhere.
// The command names come from command-word.ts.
//
// A cache sits next to its code and is trusted like it. V8 checks it against its own version,
// flags and the source, and compiles from source when it does not fit. A missing or rejected
// cache is written at exit, atomically, when this process may write the bundle's directory
// (the build's warm-up; a checkout after a Node upgrade), never anywhere else.
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";
import { commandWord, groupOf } from "./command-word.js";

type Wrapper = (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;

const always = process.env.TBUILD_WRITE_CODE_CACHE === "1";
const toWrite: { script: vm.Script; cacheFile: string }[] = [];
const loaded = new Map<string, Module>();

function readCache(cacheFile: string): Buffer | undefined {
  try {
    return fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

function mayWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function writeCaches(): void {
  for (const { script, cacheFile } of toWrite) {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }
}

/** The command `argv` runs, for choosing a cache: "build" unless it names another one. */
function commandOf(argv: readonly string[]): string {
  const word = commandWord(argv);
  return word !== undefined && groupOf(word) !== undefined ? word : "build";
}

/** The cache files of a bundle file: its own for this command first, then the shared one. */
function cacheFilesOf(file: string): [own: string, fallback?: string] {
  if (path.basename(file) !== "tbuild.js") return [`${file}.code-cache`];
  const command = commandOf(process.argv.slice(2));
  return command === "build" ? [`${file}.code-cache`] : [`${file}.${command}.code-cache`, `${file}.code-cache`];
}

/** Loads one bundle file as a CommonJS module, compiled with its code cache. */
export function load(file: string): Module {
  const known = loaded.get(file);
  if (known) return known;
  // esbuild writes ASCII only (charset: "ascii"), so latin1 reads it exactly and gives V8 a
  // one-byte string without UTF-8 decoding.
  const source = fs.readFileSync(file, "latin1");
  const [cacheFile, fallback] = cacheFilesOf(file);
  const own = readCache(cacheFile);
  // A command's first run where it may write compiles from source, once: a cache made after
  // loading the build's would hold everything the build compiled as well.
  const writable = own === undefined && mayWrite(path.dirname(file));
  const cachedData = own ?? (fallback === undefined || writable ? undefined : readCache(fallback));
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (always || writable || (script.cachedDataRejected && mayWrite(path.dirname(file)))) {
    if (toWrite.length === 0) process.once("exit", writeCaches);
    toWrite.push({ script, cacheFile });
  }
  const mod = new Module(file, module);
  mod.filename = file;
  loaded.set(file, mod);
  (script.runInThisContext() as Wrapper).call(mod.exports, mod.exports, requireFrom(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod;
}

/** `require` for a bundle file: the vendor bundles it names go through `load` too. */
function requireFrom(file: string): NodeJS.Require {
  const base = Module.createRequire(file);
  const dir = path.dirname(file);
  const req = ((id: string) => (id.startsWith("./vendor/") ? load(path.join(dir, id)).exports : base(id))) as NodeJS.Require;
  return Object.assign(req, { resolve: base.resolve, cache: base.cache, main: base.main, extensions: base.extensions });
}
