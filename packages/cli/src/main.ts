// Entry point of the `tbuild` command (bundle/tbuild.js, run by the launcher).

import { entry, exitWhenOutputCloses } from "./cli.js";

exitWhenOutputCloses();
// Exit explicitly: a stray handle (a keep-alive socket, a timer) must not keep a
// finished command alive. Writes to pipes and files are synchronous on Linux. No top-level
// await: the bundle is CommonJS (scripts/bundle.mjs says why).
void entry(process.argv.slice(2)).then((code) => process.exit(code));
