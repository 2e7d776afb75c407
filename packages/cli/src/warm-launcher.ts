// bundle/warm.js: starts a warm worker (warm/worker.ts, bundled as bundle/warm-worker.js)
// with V8's code cache, as main.js starts a command (bundle-loader.ts). The worker's cache is
// written by scripts/bundle.mjs's warm-up after a worker ran a build, so the functions a
// command calls are compiled already when a worker takes it.
//
// A successor (`--successor`, started as a worker took a command) first waits for its turn to
// load (warm/pool.ts), so that loading does not take the CPU of the commands running.
import * as path from "node:path";
import { load } from "./bundle-loader.js";
import { waitForTurn } from "./warm/pool.js";

const socketAt = process.argv.indexOf("--socket");
if (socketAt > 0 && process.argv.includes("--successor")) waitForTurn(process.argv[socketAt + 1]!);
load(path.join(__dirname, "warm-worker.js"));
