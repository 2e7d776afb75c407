// Which command a command line runs, read before commander sees it: by the launcher (to pick
// that command's code cache, launcher.ts) and by createProgram (to declare only that
// command's group). The names live here, not in the command tree, because the launcher must
// know them without loading commander and every command's declarations.

/**
 * The command names, by the group that declares them (program.ts pairs each group with its
 * definer; program.test.ts checks they agree), in the order `tbuild --help` lists them.
 */
export const COMMAND_GROUPS = {
  build: ["build"],
  images: ["images", "inspect", "history", "tag", "rmi", "save", "load", "import", "push", "pull"],
  store: ["du", "prune"],
  containers: ["run", "ps", "logs", "stop", "kill", "start", "rm", "exec", "commit", "container"],
  volumes: ["volume"],
  networks: ["network"],
  compose: ["compose"],
  version: ["version"],
} as const satisfies Record<string, readonly string[]>;

export type CommandGroup = keyof typeof COMMAND_GROUPS;

/** The group declaring command `name`, if it is one. */
export function groupOf(name: string): CommandGroup | undefined {
  return (Object.keys(COMMAND_GROUPS) as CommandGroup[]).find((g) => (COMMAND_GROUPS[g] as readonly string[]).includes(name));
}

/** Global options that take a value (program.ts declares them), as written before a command. */
export const GLOBAL_WITH_VALUE: ReadonlySet<string> = new Set(["--root", "--userns"]);

/**
 * The word naming the command: the first argument after the global options (`--root R`,
 * `--root=R`, `--userns M`, `--debug`), or undefined when another option or nothing comes
 * first (`tbuild -t app .` is a build; so is `tbuild --tag images .`).
 */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (a !== "--debug" && !a.startsWith("--root=") && !a.startsWith("--userns=")) return a.startsWith("-") ? undefined : a;
  }
  return undefined;
}
