// Small helpers for declaring commands with commander: repeatable options, lazily
// loaded actions, and the conversion of commander's errors into our UsageError.

import { type Command, CommanderError } from "commander";
import { UsageError } from "./errors.js";

/** Accumulates a repeatable option's values (commander passes the previous value). */
export function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}

/** "tbuild compose build" for a (sub)command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** What an action module exports: it gets the command (arguments, options) and returns an exit code. */
export type ActionModule = { default: (cmd: Command) => Promise<number | void> };

/** Holds the exit code of the action that ran, for main() to return. */
export const actionResult = { code: 0 };

/** Every declared command's module loader: a warm worker loads them all before it waits (warm/worker.ts). */
export const actionLoaders = new Set<() => Promise<ActionModule>>();

/**
 * Registers an action whose implementation module is imported only when the command
 * runs, so that `tbuild images` never loads the builder and `tbuild build` never loads
 * the YAML parser. Usage errors thrown by the action learn which command they belong to.
 */
export function lazyAction(cmd: Command, load: () => Promise<ActionModule>): Command {
  actionLoaders.add(load);
  return cmd.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Command;
    try {
      rejectEmptyValues(self);
      const mod = await load();
      actionResult.code = (await mod.default(self)) ?? 0;
    } catch (err) {
      if (err instanceof UsageError && err.command === undefined) err.command = commandPath(self);
      throw err;
    }
  });
}

/** Commands whose trailing operands are a command line (`run IMAGE CMD…`): "" is a real argument there. */
const commandLineOperands = new WeakSet<Command>();
/** Options whose empty value means something (`--entrypoint ""` clears the image's). */
const emptyAllowed = new Set<string>();

/** Lets `--flag ""` through (see rejectEmptyValues). */
export function allowEmptyValue(cmd: Command, attribute: string): Command {
  emptyAllowed.add(`${commandPath(cmd)} ${attribute}`);
  return cmd;
}

/** An empty argument or option value (`tbuild rmi ""`, `-o ""`) is a usage error, never a lookup. */
function rejectEmptyValues(cmd: Command): void {
  const processed = cmd.processedArgs as unknown[];
  const args = (commandLineOperands.has(cmd) ? processed.slice(0, -1) : processed).flat();
  if (args.some((a) => a === "")) throw new UsageError("an argument is empty", commandPath(cmd));
  for (const [key, value] of Object.entries(cmd.opts())) {
    if (emptyAllowed.has(`${commandPath(cmd)} ${key}`)) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => v === "")) {
      const flag = cmd.options.find((o) => o.attributeName() === key)?.long ?? key;
      throw new UsageError(`option ${flag} needs a non-empty value`, commandPath(cmd));
    }
  }
}

/**
 * Makes every command in the tree throw instead of exiting: help and --version
 * (exit code 0) pass through as CommanderError, every other commander error becomes
 * a UsageError naming the command, printed by main() as one line with exit code 2.
 */
export function throwInsteadOfExit(cmd: Command): void {
  cmd.exitOverride((err: CommanderError) => {
    if (err.exitCode === 0 || err.code === "commander.help") throw err;
    throw new UsageError(err.message.replace(/^error:\s*/i, ""), commandPath(cmd));
  });
  cmd.configureOutput({ outputError: () => {} });
  for (const sub of cmd.commands) throwInsteadOfExit(sub);
}

export { CommanderError };

/**
 * Docker's rule for `run IMAGE [COMMAND] [ARG...]` and `exec CONTAINER COMMAND…`: options
 * end at the first operand, so `tbuild run busybox ls -t` gives `-t` to ls. Commander has
 * this only with positional options program-wide (which would stop `--root` working after a
 * command), so the command's argv is cut here: a "--" is put before the first operand.
 */
export function optionsStopAtFirstOperand(cmd: Command): Command {
  commandLineOperands.add(cmd);
  const internal = cmd as unknown as { _parseCommand(operands: string[], unknown: string[]): unknown };
  const original = internal._parseCommand.bind(cmd);
  internal._parseCommand = (operands: string[], unknown: string[]) => {
    const all = [...operands, ...unknown];
    let i = 0;
    while (i < all.length) {
      const a = all[i]!;
      if (a === "--" || !a.startsWith("-") || a === "-") break;
      i++;
      if (a.startsWith("--")) {
        const o = cmd.options.find((x) => x.long === a);
        if (o && (o.required || o.optional)) i++;
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const o = cmd.options.find((x) => x.short === `-${a[j]}`);
        if (o && (o.required || o.optional)) {
          if (j === a.length - 1) i++;
          break;
        }
      }
    }
    if (i >= all.length || all[i] === "--") return original([], all);
    return original([], [...all.slice(0, i), "--", ...all.slice(i)]);
  };
  return cmd;
}
