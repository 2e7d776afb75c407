// How a RUN instruction becomes an argv, and how BuildKit words it in the history.

/** The default shell of Linux images when SHELL was never set. */
export const DEFAULT_SHELL = ["/bin/sh", "-c"];

export interface RunHeredoc {
  name: string;
  content: string;
  chomp: boolean;
}

export interface RunCommand {
  argv: string[];
  /** A script that must be mounted at /dev/pipes/<name> (single heredoc with a #! line). */
  script?: { name: string; content: string };
}

/** Removes the leading tabs of every line, for `<<-EOF` bodies. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, "");
}

/**
 * Builds the argv of a RUN: exec form as given; shell form wrapped in the image's SHELL.
 * Heredocs follow BuildKit: a lone `RUN <<EOF` runs the body itself (as a script when it
 * starts with `#!`), any other use re-joins the heredocs onto the command for the shell.
 */
export function buildRunCommand(
  form: "shell" | "exec",
  command: string | string[],
  heredocs: readonly RunHeredoc[],
  shell: readonly string[] | undefined,
): RunCommand {
  if (form === "exec") return { argv: [...(command as string[])] };
  let text = command as string;
  let script: RunCommand["script"];
  if (heredocs.length > 0) {
    const first = heredocs[0]!;
    const body = first.chomp ? chompHeredoc(first.content) : first.content;
    if (isLoneHeredoc(text)) {
      if (body.startsWith("#!")) {
        script = { name: first.name, content: body };
        return { argv: [`/dev/pipes/${first.name}`], script };
      }
      text = body;
    } else {
      for (const h of heredocs) text += "\n" + h.content + h.name;
    }
  }
  return { argv: [...(shell && shell.length ? shell : DEFAULT_SHELL), text] };
}

/** True when the command is nothing but one heredoc marker, e.g. `<<EOF` or `<<-"EOF"`. */
function isLoneHeredoc(text: string): boolean {
  return /^\s*\d*<<-?\s*(["']?)[^\s"']+\1\s*$/.test(text);
}

/** `RUN |2 A=1 B=2 /bin/sh -c make # buildkit`, the way BuildKit records a RUN. */
export function runHistory(argv: readonly string[], buildArgs: readonly { name: string; value: string }[]): string {
  const prefix = buildArgs.length ? [`|${buildArgs.length}`, ...buildArgs.map((a) => `${a.name}=${a.value}`)] : [];
  return `RUN ${[...prefix, ...argv].join(" ")} # buildkit`;
}
