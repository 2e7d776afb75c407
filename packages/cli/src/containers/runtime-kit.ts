// What the container, volume and network actions share: the lazily loaded runtime, the
// store root, option values parsed by the runtime as usage errors, and -e/--env-file.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CommandError, UsageError } from "../errors.js";
import type { StoreFlags } from "../images/open-store.js";

export type Runtime = typeof import("@tbuild/runtime");

/** @tbuild/runtime, imported only by the commands that run containers. */
export function loadRuntime(): Promise<Runtime> {
  return import("@tbuild/runtime");
}

export function rootOf(rt: Runtime, flags: StoreFlags): string {
  return rt.resolveRoot(flags.root);
}

/** What a volume or network subcommand works with: its flags and arguments, the runtime, the store root and layout. */
export async function runtimeCommand<F extends StoreFlags>(cmd: Command) {
  const f = cmd.optsWithGlobals<F>();
  const rt = await loadRuntime();
  const root = rootOf(rt, f);
  return { f, rt, root, layout: new rt.RuntimeLayout(root), args: cmd.processedArgs as unknown[] };
}

/** Runs a parser of the runtime; its RuntimeError is a usage error here (a bad flag value). */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof Error && e.name === "RuntimeError") throw new UsageError(e.message);
    throw e;
  }
}

/** --env-file files then -e entries, as Docker applies them. */
export function envFromFlags(rt: Runtime, envFiles: string[] = [], envs: string[] = []): string[] {
  const out: string[] = [];
  for (const f of envFiles) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new CommandError(`cannot read --env-file ${f}: ${(e as Error).message}`);
    }
    out.push(...usage(() => rt.envEntries(text.split(/\r?\n/))));
  }
  out.push(...usage(() => rt.envEntries(envs)));
  return out;
}

/** Labels given as key=value. */
export function labelsFromFlags(values: string[] = [], flag = "--label"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid ${flag} ${v}: expected key=value`);
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? "" : v.slice(eq + 1);
  }
  return out;
}

/**
 * Forwards the signals a terminal or a supervisor sends this process to the sandbox's
 * helper, which passes them to the container's pid 1; returns the undo function.
 */
function forwardSignals(helperPid: () => number | undefined): () => void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];
  const handler = (sig: NodeJS.Signals) => {
    const pid = helperPid();
    if (pid) {
      try {
        process.kill(pid, sig);
      } catch {
        // it just ended
      }
    }
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

/** Raw mode for `-it` on a terminal (keys, Ctrl-C included, go to the container); returns the undo function. */
function rawTerminal(enable: boolean): () => void {
  if (!enable || !process.stdin.isTTY) return () => {};
  process.stdin.setRawMode(true);
  process.stdin.pause();
  return () => {
    try {
      process.stdin.setRawMode(false);
    } catch {
      // the terminal is gone
    }
  };
}

/**
 * Runs a foreground container or exec attached to this terminal: raw mode for -it, signals
 * forwarded to the helper, and Docker's 126/127 for a command that cannot be exec'd.
 */
export async function attached(raw: boolean, run: (onHelper: (pid: number | undefined) => void) => Promise<number>): Promise<number> {
  let helper: number | undefined;
  const unforward = forwardSignals(() => helper);
  const restore = rawTerminal(raw);
  try {
    return await run((pid) => (helper = pid));
  } catch (e) {
    return exitStatusOf(e);
  } finally {
    restore();
    unforward();
  }
}

/** The process exit status for a runtime failure that has one (126/127 of an exec), else rethrows. */
function exitStatusOf(e: unknown): number {
  const status = (e as { exitStatus?: number }).exitStatus;
  if (e instanceof Error && e.name === "RuntimeError" && (status === 126 || status === 127)) {
    process.stderr.write(`ERROR: ${e.message}\n`);
    return status;
  }
  throw e;
}
