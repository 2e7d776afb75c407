// Rootless mode: `tbuild` started by a user other than root runs itself again inside a user
// namespace, as buildah and rootless BuildKit (through rootlesskit) do. util-linux's
// `unshare --map-auto --map-root-user` maps the user to root and the user's /etc/subuid and
// /etc/subgid ranges to ids 1…65535 (with newuidmap/newgidmap from the "uidmap" package),
// and gives the process a mount namespace. Inside it tbuild is root of that namespace: the
// store keeps the images' real ownership (uid 1000 in a layer is uid 1000 in the store as
// the namespace sees it), overlayfs is mounted with userxattr, and each RUN step gets
// the same sandbox as under root, less what only the host's root may do (device nodes are
// bound from the host's /dev, /sys is a read-only bind, no cgroup limits).
//
// Root may ask for the same (`--userns auto` or TBUILD_USERNS=auto): root's own /etc/subuid
// range becomes the namespace's ids, so a RUN step's root is an unprivileged host uid, with
// a store of its own (/var/lib/tbuild-userns). Root's default stays the host's ids: no
// subordinate ids to configure, one store, and the sandbox is the same either way.
import { spawn } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CommandError } from "./errors.js";
import { privateDir } from "./private-dir.js";

/** Set in the re-executed process so that it does not try again. */
const MARK = "TBUILD_IN_USERNS";

export type UsernsMode = "host" | "auto";

/** `--userns MODE` (or `--userns=MODE`), else $TBUILD_USERNS, else "host"; undefined for a bad value (commander reports it). */
export function requestedUserns(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): UsernsMode | undefined {
  let v = env.TBUILD_USERNS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--userns") v = argv[i + 1];
    else if (a.startsWith("--userns=")) v = a.slice("--userns=".length);
  }
  if (v === undefined || v === "" || v === "host") return "host";
  return v === "auto" ? "auto" : undefined;
}

/** True when this invocation must re-run itself in a user namespace. */
export function needsUserNamespace(argv: readonly string[]): boolean {
  if (process.env[MARK] === "1" || argv.length === 0) return false;
  // Help and version need no store.
  if (argv.some((a) => a === "--help" || a === "-h" || a === "--version" || a === "-v")) return false;
  const root = typeof process.getuid !== "function" || process.getuid() === 0;
  return !root || requestedUserns(argv) === "auto";
}

/** The first subordinate id range of `user` in `file` (/etc/subuid, /etc/subgid). */
function subidRange(file: string, user: string, id: number): { start: number; count: number } | undefined {
  try {
    for (const l of readFileSync(file, "utf8").split("\n")) {
      const [who, start, count] = l.split(":");
      if ((who === user || who === String(id)) && Number(count) > 0) return { start: Number(start), count: Number(count) };
    }
  } catch {
    // no file: no range
  }
  return undefined;
}

/** Creates `dir` for the namespace's root, or checks that an existing one is its own (a host-mode store must not be taken over). */
function ownedDir(dir: string, uid: number, gid: number): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, uid, gid);
    return;
  }
  if (!st.isDirectory() || st.uid !== uid) {
    throw new CommandError(`${dir} does not belong to the user namespace of --userns auto (host uid ${uid}); give that mode a store of its own (TBUILD_ROOT) or chown it to ${uid}:${gid}`);
  }
}

/**
 * Runs this command again inside a user namespace and resolves with its exit code.
 * Rejects with a CommandError saying what to install or configure when that is not possible.
 */
export async function runInUserNamespace(argv: readonly string[]): Promise<number> {
  const uid = process.getuid!();
  const user = os.userInfo().username;
  const uids = subidRange("/etc/subuid", user, uid);
  const gids = subidRange("/etc/subgid", user, uid);
  if (!uids || !gids) {
    const what = uid === 0 ? "--userns auto" : "rootless tbuild";
    throw new CommandError(
      `${what} needs subordinate ids for ${user} in /etc/subuid and /etc/subgid (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}), and the Debian package "uidmap"`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, [MARK]: "1" };
  let mapping: string[];
  if (uid === 0) {
    // The namespace's root is host uid uids.start: its store and runtime dir must be its own.
    env.TBUILD_ROOT ??= "/var/lib/tbuild-userns";
    env.TBUILD_RUNTIME_DIR ??= "/run/tbuild-userns";
    for (const d of [env.TBUILD_ROOT, env.TBUILD_RUNTIME_DIR]) ownedDir(d, uids.start, gids.start);
    mapping = [`--map-users=${uids.start},0,${uids.count}`, `--map-groups=${gids.start},0,${gids.count}`, "--setuid=0", "--setgid=0"];
  } else {
    // Inside, this process is uid 0: name the user's own store and runtime dir before entering.
    env.TBUILD_ROOT ??= path.join(process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share"), "tbuild");
    env.TBUILD_RUNTIME_DIR ??= privateDir(uid);
    mapping = ["--map-auto", "--map-root-user"];
  }
  const args = [...mapping, "--mount", "--propagation", "private", "--", process.execPath, ...process.execArgv, process.argv[1]!, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", args, { stdio: "inherit", env });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const signals = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, f] of signals) process.on(s, f);
    child.on("error", (e) => reject(new CommandError(`cannot enter a user namespace: ${e.message} (util-linux's unshare is needed)`)));
    child.on("exit", (code, signal) => {
      for (const [s, f] of signals) process.off(s, f);
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
}
