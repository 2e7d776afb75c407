#!/usr/bin/env node
// The `tbuild` command run cold: bundle/main.js, the package's bin, and what the client on PATH
// (native/tbuild-client.c) runs when no warm worker takes the command. It runs the bundled CLI
// (bundle/tbuild.js, one CommonJS file made by scripts/bundle.mjs, and the libraries only some
// commands need in bundle/vendor/) with V8's code cache (bundle-loader.ts). This file is
// bundled as CommonJS too (scripts/bundle.mjs): `__dirname` is main.js's.
import * as path from "node:path";
import { load } from "./bundle-loader.js";

/**
 * The client (native/tbuild-client.c) found no warm worker for this bundle: start them, for
 * the next command (warm/worker.ts). At exit, so they do not compete with this command.
 */
function startWarmWorkersAtExit(): void {
  if (process.env.TBUILD_WARM_START !== "1") return;
  delete process.env.TBUILD_WARM_START;
  const warmJs = path.join(__dirname, "warm.js");
  process.once("exit", () => {
    // child_process only here: a command that starts no worker does not load it.
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    spawn(process.execPath, [warmJs, "--seed"], { detached: true, stdio: "ignore" }).unref();
  });
}

startWarmWorkersAtExit();
load(path.join(__dirname, "tbuild.js"));
