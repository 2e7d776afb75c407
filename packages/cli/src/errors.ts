// Error classes that carry the CLI's exit-code policy, and the one place that prints
// errors. Policy: 0 success, 1 the command failed on valid usage (a build error, a
// missing image, an unreachable registry …), 2 usage error (bad flag, bad value,
// wrong number of arguments). Users never see a stack trace unless they ask for one
// with --debug or TBUILD_DEBUG=1.

/** Exit codes of the `tbuild` command. */
export const ExitCode = { ok: 0, failure: 1, usage: 2, /** 128 + SIGPIPE, as a shell reports docker's CLI killed by a closed pipe */ pipeClosed: 141 } as const;

/** Bad command-line usage: printed as one line, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The command path the error belongs to (`tbuild build`), for the help hint. */
  command?: string;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/**
 * A failure the user caused or can act on (image not found, file unreadable, build
 * failed): printed without a stack, exit 1. `detail` is printed before the message
 * (e.g. a Dockerfile excerpt).
 */
export class CommandError extends Error {
  override readonly name = "CommandError";
  readonly detail?: string;
  constructor(message: string, opts?: { detail?: string; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.detail = opts?.detail;
  }
}

/** Thrown by commands that already printed everything about their failure. */
export class SilentFailure extends Error {
  override readonly name = "SilentFailure";
  constructor(readonly exitCode: number = ExitCode.failure) {
    super("failure already reported");
  }
}

/** True when stack traces should be shown (`--debug` or TBUILD_DEBUG set to something truthy). */
export function debugEnabled(argv: readonly string[] = process.argv, env = process.env): boolean {
  const v = env.TBUILD_DEBUG;
  if (v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false") return true;
  return argv.includes("--debug");
}

/** An error from @tbuild/parser that knows how to print itself with file:line:col and the line. */
interface FormattableError extends Error {
  format(): string;
}

function isFormattable(err: unknown): err is FormattableError {
  return err instanceof Error && typeof (err as Partial<FormattableError>).format === "function";
}

/** Node's errno errors (ENOENT …) carry a `code`; their messages are already specific. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" &&
    typeof (err as NodeJS.ErrnoException).syscall === "string";
}

/**
 * Prints `err` to stderr in the house style and returns the process exit code.
 * Unknown errors (programming bugs) also get one line, plus a hint to rerun with
 * TBUILD_DEBUG=1; with debug on, every error is followed by its stack.
 */
export function reportError(err: unknown, debug: boolean, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof SilentFailure) {
    if (debug && err.stack) write(`${err.stack}\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError) {
    const hint = err.command ? ` See '${err.command} --help'.` : "";
    write(`${err.command ?? "tbuild"}: ${oneLine(err.message)}.${hint}\n`);
    if (debug && err.stack) write(`${err.stack}\n`);
    return ExitCode.usage;
  }
  if (err instanceof CommandError) {
    if (err.detail) write(err.detail.endsWith("\n") ? err.detail : `${err.detail}\n`);
    write(`ERROR: ${err.message}\n`);
    if (debug) writeStack(err, write);
    return ExitCode.failure;
  }
  if (isFormattable(err)) {
    const text = err.format();
    write(text.endsWith("\n") ? text : `${text}\n`);
    if (debug) writeStack(err, write);
    return ExitCode.failure;
  }
  if (isSystemError(err)) {
    write(`ERROR: ${err.message}\n`);
    if (debug) writeStack(err, write);
    return ExitCode.failure;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`ERROR: ${message}\n`);
  if (debug) writeStack(err, write);
  else if (err instanceof Error && !isUserFacing(err)) write("(run with TBUILD_DEBUG=1 for the stack trace)\n");
  return ExitCode.failure;
}

/** Errors other packages throw for user mistakes carry a name other than plain "Error"/TypeError. */
function isUserFacing(err: Error): boolean {
  return !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError);
}

function writeStack(err: unknown, write: (s: string) => void): void {
  let e: unknown = err;
  let depth = 0;
  while (e instanceof Error && depth < 5) {
    write(`${depth === 0 ? "" : "caused by: "}${e.stack ?? e.message}\n`);
    e = e.cause;
    depth++;
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim().replace(/\.$/, "");
}
