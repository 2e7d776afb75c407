// Bundles the `tbuild` command into packages/cli/bundle/ with esbuild: one ESM entry and
// lazily loaded chunks instead of ~300 separate modules, which cuts the Node start-up a
// no-op rebuild pays by about 40% (module resolution dominated it). The tar worker of
// @tbuild/oci and the container monitor of @tbuild/runtime are entries of their own,
// because each is started from a file next to the code.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}packages/cli/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    main: `${root}packages/cli/dist/main.js`,
    "tar-worker": `${root}packages/oci/dist/layer/tar-worker.js`,
    // A detached container's monitor is started from a file next to the code (runtime's operations.ts).
    "tbuild-monitor": `${root}packages/runtime/dist/tbuild-monitor.js`,
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // Bundled CommonJS dependencies (commander, tar-stream …) still call require().
  banner: { js: "import { createRequire as __tbuildRequire } from 'node:module'; const require = __tbuildRequire(import.meta.url);" },
});

// The sandbox helper is found next to the code that runs it (enter-helper.ts).
const helper = `${root}packages/builder/native/tbuild-enter`;
if (existsSync(helper)) {
  mkdirSync(`${outdir}/native`, { recursive: true });
  copyFileSync(helper, `${outdir}/native/tbuild-enter`);
}
