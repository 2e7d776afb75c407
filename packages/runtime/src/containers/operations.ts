// What the container commands do to a container: start it under a detached monitor, stop,
// kill, remove, exec. Signals go straight to the container's pid 1 (its host pid and start
// time are in the state, so a recycled pid is never signalled).
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chainsOf, execFailed, LayeredView, resolveUser, setupFailed, UnshareExecutor } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { RuntimeError } from "../errors.js";
import { mergeEnv } from "../options.js";
import { ContainerStore, processAlive, supervisorAlive, type Container } from "./container-store.js";
import { removeContainer } from "./remove.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tbuild-monitor.js: next to the bundle's chunks, or in this package's dist/. */
function monitorScript(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++) {
    const p = path.join(dir, "tbuild-monitor.js");
    if (existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new RuntimeError("the container monitor (tbuild-monitor.js) is missing next to tbuild's code; run \"npm run build\"");
}

/**
 * Starts a container under a monitor process of its own (a new session: it survives this
 * command and the terminal) and waits until the command was exec'd or failed to start.
 */
export async function startDetached(root: string, c: Container): Promise<void> {
  const containers = new ContainerStore(root);
  await containers.refresh(c);
  if (c.state.status === "running" || c.state.status === "restarting") return;
  const errLog = openSync(path.join(c.dir, "monitor.log"), "a", 0o640);
  const child = spawn(process.execPath, [monitorScript(), root, c.config.id], { detached: true, stdio: ["ignore", "ignore", errLog, "pipe"], env: process.env });
  closeSync(errLog);
  const report = await new Promise<string>((resolve) => {
    let text = "";
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding("utf8");
    pipe.on("data", (d: string) => (text += d));
    pipe.on("end", () => resolve(text));
    pipe.on("error", () => resolve(text));
  });
  child.unref();
  if (report.startsWith("started")) return;
  const m = /^error (\d+) (.*)$/s.exec(report.trim());
  if (m) throw new RuntimeError(JSON.parse(m[2]!) as string, { exitStatus: Number(m[1]) });
  throw new RuntimeError(`the monitor of container ${c.config.name} ended before the container started (see ${path.join(c.dir, "monitor.log")})`);
}

function signalNumber(sig: string): NodeJS.Signals | number {
  if (/^\d+$/.test(sig)) return Number(sig);
  const name = (sig.startsWith("SIG") ? sig : `SIG${sig}`).toUpperCase();
  return name as NodeJS.Signals;
}

/** Sends `signal` to the container's pid 1 if it is still the process the state names. */
export function signalContainer(c: Container, signal: string): boolean {
  const s = c.state;
  if (!processAlive(s.pid, s.pidStart)) return false;
  try {
    process.kill(s.pid, signalNumber(signal));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw new RuntimeError(`cannot send ${signal} to container ${c.config.name}: ${(e as Error).message}`);
  }
}

/** Waits until the supervisor recorded the end (or died); false when `ms` ran out first. */
async function waitStopped(containers: ContainerStore, c: Container, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    await containers.refresh(c);
    const s = c.state;
    if (!supervisorAlive(s) || (s.status !== "running" && s.status !== "restarting")) {
      // The supervisor may still be cleaning up (network, --rm); give it a moment to end.
      for (let i = 0; i < 50 && supervisorAlive(s); i++) await sleep(100);
      return true;
    }
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}

/** docker stop: the stop signal, then SIGKILL after `timeout` seconds. No restart follows. */
export async function stopContainer(root: string, c: Container, timeoutSec?: number, signal?: string): Promise<void> {
  const containers = new ContainerStore(root);
  await containers.refresh(c);
  if (!supervisorAlive(c.state)) return;
  await containers.requestStop(c);
  const t = timeoutSec ?? c.config.stopTimeout;
  if (c.state.status === "running") signalContainer(c, signal ?? c.config.stopSignal);
  if (await waitStopped(containers, c, Math.max(0, t) * 1000)) return;
  signalContainer(c, "SIGKILL");
  if (await waitStopped(containers, c, 30_000)) return;
  throw new RuntimeError(`container ${c.config.name} did not stop`);
}

/** docker kill: a signal (default SIGKILL) to pid 1; a container ended this way is not restarted. */
export async function killContainer(root: string, c: Container, signal = "SIGKILL"): Promise<void> {
  const containers = new ContainerStore(root);
  await containers.refresh(c);
  if (c.state.status !== "running") throw new RuntimeError(`container ${c.config.name} is not running`);
  await containers.requestStop(c);
  signalContainer(c, signal);
}

/** docker rm [-f] [-v]. */
export async function removeContainerForce(root: string, c: Container, opts: { force: boolean; volumes: boolean }): Promise<void> {
  const containers = new ContainerStore(root);
  await containers.refresh(c);
  if (supervisorAlive(c.state)) {
    if (!opts.force && (c.state.status === "running" || c.state.status === "restarting")) {
      throw new RuntimeError(`cannot remove container ${c.config.name}: it is running; stop it first, or use rm -f`);
    }
    await containers.requestStop(c);
    signalContainer(c, "SIGKILL");
    if (!(await waitStopped(containers, c, 30_000))) throw new RuntimeError(`container ${c.config.name} did not stop`);
    // A supervisor still alive now is stuck: end it (its sandbox dies with it).
    if (supervisorAlive(c.state)) process.kill(c.state.monitorPid, "SIGKILL");
    await containers.refresh(c);
  }
  if (!existsSync(c.dir)) return; // --rm took it
  await removeContainer(root, c, opts);
}

export interface ExecRequest {
  args: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  stdin: boolean;
  /** Receives the helper's pid, for forwarding signals. */
  onHelper?: (pid: number | undefined) => void;
}

/** Whether `pid` is in this process's user namespace (exec can only enter a sandbox of its own user namespace). */
function sameUserNamespace(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`) === readlinkSync("/proc/self/ns/user");
  } catch {
    return false;
  }
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** docker exec: runs a command in the running container with its sandbox's rules; resolves with its exit status. */
export async function execInContainer(root: string, c: Container, req: ExecRequest): Promise<number> {
  const containers = new ContainerStore(root);
  await containers.refresh(c);
  if (c.state.status !== "running" || c.state.pid <= 0) throw new RuntimeError(`container ${c.config.name} is not running`);
  if (req.args.length === 0) throw new RuntimeError("exec needs a command");
  if (!sameUserNamespace(c.state.pid)) {
    throw new RuntimeError(`cannot exec in container ${c.config.name}: it runs in another user namespace (rootless: every tbuild command makes a user namespace of its own, and one cannot enter another's)`);
  }
  const store = await Store.open(root);
  const userSpec = req.user ?? c.config.user;
  let user;
  let home = "/";
  try {
    const lowers = chainsOf(c.config.image.layers.map((l) => l.diffID)).map((ch) => store.snapshotPath(ch)).reverse();
    const view = new LayeredView([path.join(c.dir, "upper"), ...lowers]);
    user = await resolveUser(view, userSpec);
    // HOME from /etc/passwd, as runc sets it for the container's own command.
    const passwd = await view.readFile("/etc/passwd").then((b) => b.toString("utf8"), () => "");
    home = passwd.split("\n").map((l) => l.split(":")).find((f) => f.length >= 7 && f[2] === String(user!.uid))?.[5] || "/";
  } catch (e) {
    throw new RuntimeError(`unable to find user ${userSpec}: ${(e as Error).message}`);
  } finally {
    await store.close();
  }
  let env = mergeEnv(c.config.env, req.env);
  if (!env.some((e) => e.startsWith("PATH="))) env = [DEFAULT_PATH, ...env];
  if (!env.some((e) => e.startsWith("HOME="))) env.push(`HOME=${home}`);
  if (req.tty) env = mergeEnv(env, ["TERM=xterm"]);
  const proc = UnshareExecutor.create().prepareExec({
    pid: c.state.pid,
    args: req.args,
    env,
    cwd: req.workdir ?? c.config.workingDir,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.filter((g) => g !== user.gid) },
    stdin: req.stdin,
    tty: req.tty,
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(proc.argv[0]!, proc.argv.slice(1), { stdio: [req.stdin ? 0 : "ignore", 1, "pipe", 2, "pipe"], env: {} });
      req.onHelper?.(child.pid);
      let setup = "";
      let life = "";
      (child.stdio[2] as NodeJS.ReadableStream).on("data", (b: Buffer) => void (setup += b.toString("utf8")));
      (child.stdio[4] as NodeJS.ReadableStream).on("data", (b: Buffer) => void (life += b.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code, signal) => {
        req.onHelper?.(undefined);
        const failed = /^exec-failed (\d+)$/m.exec(life);
        if (failed) return reject(new RuntimeError(`exec failed: ${execFailed(req.args[0]!, Number(failed[1])).message}`, { exitStatus: Number(failed[1]) === 2 ? 127 : 126 }));
        if (!life.includes("started\n")) return reject(new RuntimeError(`exec failed: ${setupFailed(setup.trim(), code ?? signal).message}`));
        resolve(code ?? 137);
      });
    });
  } finally {
    await proc.release();
  }
}
