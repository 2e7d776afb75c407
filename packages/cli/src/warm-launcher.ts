// bundle/warm.js: starts a warm worker (warm/worker.ts, bundled as bundle/warm-worker.js)
// with V8's code cache, as main.js starts a command (bundle-loader.ts). The worker's cache is
// written by scripts/bundle.mjs's warm-up after a worker ran a build, so the functions a
// command calls are compiled already when a worker takes it.
import * as path from "node:path";
import { load } from "./bundle-loader.js";

load(path.join(__dirname, "warm-worker.js"));
