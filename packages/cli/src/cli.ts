// Running one command line: what the `tbuild` process (main.ts) and a warm worker
// (warm/worker.ts) both do. Keep the static imports here minimal: every command's
// implementation is imported when it runs (see program-kit.ts lazyAction), because a no-op
// rebuild's total time is dominated by start-up.

import { debugEnabled, ExitCode, reportError } from "./errors.js";
import { actionResult, CommanderError } from "./program-kit.js";
import { createProgram, isTopLevelVersionFlag } from "./program.js";
import { cliVersion } from "./version.js";

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = debugEnabled(argv);
  const program = createProgram(cliVersion, argv);
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.ok;
  }
  try {
    if (isTopLevelVersionFlag(argv)) {
      process.stdout.write(`tbuild version ${cliVersion()}\n`);
      return ExitCode.ok;
    }
    await program.parseAsync(argv, { from: "user" });
    return actionResult.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    return reportError(err, debug);
  }
}

/** A user other than root, or root with --userns auto, runs the command again inside a user namespace (rootless.ts). */
export async function entry(argv: string[]): Promise<number> {
  if (process.env.TBUILD_IN_USERNS !== "1" && (process.getuid?.() !== 0 || argv.some((a) => a.startsWith("--userns")) || process.env.TBUILD_USERNS)) {
    const rootless = await import("./rootless.js");
    if (rootless.needsUserNamespace(argv)) {
      try {
        return await rootless.runInUserNamespace(argv);
      } catch (err) {
        return reportError(err, debugEnabled(argv));
      }
    }
  }
  return main(argv);
}

/**
 * A reader that went away (`tbuild images | head -1`, `tbuild build . 2>&1 | head`) ends the
 * command as SIGPIPE ends docker's CLI: at once, exit 141, and without Node's unhandled-error
 * stack trace. A build stopped this way leaves the store as a killed one does (recovered at
 * the next open) and its RUN processes die with their parent (tbuild-enter's PDEATHSIG).
 */
export function exitWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(ExitCode.pipeClosed);
    });
  }
}
