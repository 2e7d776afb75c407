// The monitor of a detached container: `node tbuild-monitor.js ROOT ID`, started by
// startDetached in a session of its own. It supervises the container (supervisor.ts) for as
// long as it runs, restarts included, and says on fd 3 whether the first start worked
// ("started", or "error STATUS MESSAGE-AS-JSON"), then closes it so the CLI can return.
import { closeSync, writeSync } from "node:fs";
import { Supervisor } from "./containers/supervisor.js";
import "./networks/attach.js";

const [root, id] = process.argv.slice(2);
let reported = false;
const report = (text: string) => {
  if (reported) return;
  reported = true;
  try {
    writeSync(3, text);
    closeSync(3);
  } catch {
    // the CLI is gone
  }
};
const errorLine = (e: unknown) => `error ${(e as { exitStatus?: number }).exitStatus ?? 125} ${JSON.stringify((e as Error).message)}\n`;

// No top-level await: the CLI bundle is CommonJS (scripts/bundle.mjs says why).
async function monitor(): Promise<void> {
  try {
    if (!root || !id) throw new Error("usage: tbuild-monitor ROOT CONTAINER-ID");
    await new Supervisor(root, id).run({ stdin: "ignore", onStart: (err) => report(err ? errorLine(err) : "started\n") });
  } catch (e) {
    report(errorLine(e));
    process.stderr.write(`${new Date().toISOString()} ${(e as Error).stack ?? String(e)}\n`);
  }
}
void monitor().then(() => process.exit(0));
