// Which command a command line runs, read before commander sees it: by the launcher (to pick
// that command's code cache, launcher.ts) and by createProgram (to declare only that
// command's group).

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
