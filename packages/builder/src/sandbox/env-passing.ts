// How the command's environment crosses the setup shell. A POSIX shell rewrites its
// environment: it drops names that are not shell identifiers (Docker allows ENV a.b=1),
// resets IFS, sets PWD/OLDPWD on cd. When every name is a plain identifier the shell leaves
// alone, the environment can ride through the shell (no extra process); otherwise the
// command is started through `env -i NAME=VALUE…`, which passes it byte for byte.

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables dash sets, resets or exports itself. */
const SHELL_OWNED = new Set(["IFS", "PWD", "OLDPWD", "OPTIND", "PPID", "PS1", "PS2", "PS4", "ENV", "LINENO", "_"]);

/** Parses "K=V" entries; a later entry for the same name wins, as in Docker. */
export function envRecord(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf("=");
    const k = e.slice(0, i);
    delete out[k]; // keep insertion order of the winning entry
    out[k] = e.slice(i + 1);
  }
  return out;
}

/** True if `env` can pass through the setup shell unchanged. */
export function shellSafeEnv(env: readonly string[]): boolean {
  return env.every((e) => {
    const name = e.slice(0, e.indexOf("="));
    return PLAIN_NAME.test(name) && !SHELL_OWNED.has(name);
  });
}
