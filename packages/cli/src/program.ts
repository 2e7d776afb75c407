// The `tbuild` command tree. Only declarations live here (names, arguments, flags,
// help); each action is a module under actions/ loaded when its command runs.

import { Command, Option } from "commander";
import { defineBuildCommand } from "./commands/build.js";
import { defineComposeCommand } from "./commands/compose.js";
import { defineContainerCommands } from "./commands/containers.js";
import { defineNetworkCommands } from "./commands/networks.js";
import { defineVolumeCommands } from "./commands/volumes.js";
import { defineImageCommands } from "./commands/images.js";
import { defineStoreCommands } from "./commands/store.js";
import { commandWord, GLOBAL_WITH_VALUE, groupOf, type CommandGroup } from "./command-word.js";
import { lazyAction, throwInsteadOfExit } from "./program-kit.js";

/**
 * Each group's definer (the names it declares are COMMAND_GROUPS'). A command line that names
 * a command gets only that command's group: declaring every command's ~130 options costs a
 * few ms of every start-up, and commander dispatches and prints help per command.
 */
const DEFINERS: Record<CommandGroup, (program: Command) => void> = {
  build: defineBuildCommand,
  images: defineImageCommands,
  store: defineStoreCommands,
  containers: defineContainerCommands,
  volumes: defineVolumeCommands,
  networks: defineNetworkCommands,
  compose: defineComposeCommand,
  version: (program) => void lazyAction(program.command("version").description("print version information"), () => import("./actions/version.js")),
};

/**
 * Builds the command tree: all of it, or for `argv` naming a command, the root and that
 * command's group (an unknown word, an option or no argument gets the whole tree: help,
 * suggestions and the default build command behave as with every command declared).
 */
export function createProgram(version: () => string, argv?: readonly string[]): Command {
  const program = new Command("tbuild")
    .description("Build container images from Dockerfiles, with a layer cache (docker build compatible).")
    .usage("[options] [command]\n       tbuild [build options] CONTEXT   (same as 'tbuild build')")
    .addOption(new Option("--root <dir>", "image store and cache directory").env("TBUILD_ROOT"))
    .addOption(new Option("--userns <mode>", "user namespace of tbuild and its RUN steps: host (root's default) or auto (root's subordinate ids; always for other users)").choices(["host", "auto"]).env("TBUILD_USERNS"))
    .option("--debug", "print stack traces for errors (also TBUILD_DEBUG=1)")
    .helpOption("-h, --help", "display help for command")
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  // Only --version is commander's: it would take -v anywhere on the line, and after a command
  // docker users mean verbose (`tbuild du -v`). A -v before any command is the version (main.ts).
  program.version(`tbuild version ${version()}`, "--version", "print the version (also -v, before any command)");

  const word = argv === undefined ? undefined : commandWord(argv);
  const named = word === undefined ? undefined : groupOf(word);
  for (const g of named ? [named] : (Object.keys(DEFINERS) as CommandGroup[])) DEFINERS[g](program);

  throwInsteadOfExit(program);
  return program;
}

/** True when `-v` comes before any command or operand: `tbuild -v`, `tbuild --root R -v`. */
export function isTopLevelVersionFlag(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-v") return true;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith("--")) return false;
  }
  return false;
}
