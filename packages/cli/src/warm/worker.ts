// A warm worker (bundle/warm-worker.js, started by bundle/warm.js): a Node process that has
// loaded tbuild and every command's code, waiting on the user's private socket for one command
// line from the `tbuild` client (native/tbuild-client.c). A short command was mostly Node's start and our loading
// (~0.1 s of a 0.15 s push or no-op build); BuildKit and docker answer from a warm daemon.
//
// A worker runs one command and exits: it takes the client's stdin, stdout and stderr as its
// own fds 0-2, its working directory, umask, environment and arguments, and from then on is
// that command exactly as `node bundle/main.js ARGS` would have been (nothing of one command
// is left for the next). It declines, and the client runs the command cold, what it could not
// run the same way (request.ts: containers and compose, other Node start-up variables, other
// groups or namespaces). A worker that took a command starts its successor as it ends (exit or
// signal), on the same listening socket, so POOL workers wait between commands; successors
// start and load when the machine is quiet (pool.ts), and a client arriving while none is
// ready waits in the socket's backlog. Each exits after TBUILD_WARM_IDLE seconds (default 600)
// unused; a pool grown by a burst of commands shrinks back after a minute.
//
// Started by launcher.ts (TBUILD_WARM_START=1, set by the client when no worker listened):
// `node warm.js --seed` binds the socket (socket.ts), starts the workers and exits; they run
// `node warm.js --socket SOCKET` with the listening socket as fd 3 (SOCKET is for ps and the
// tests).
import { spawn } from "node:child_process";
import * as zlib from "node:zlib";
import * as workerThreads from "node:worker_threads";
import { existsSync, openSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import * as net from "node:net";
import { getPriority, constants as osConstants, setPriority } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { entry, exitWhenOutputCloses } from "../cli.js";
import { actionLoaders } from "../program-kit.js";
import { createProgram } from "../program.js";
import { cliVersion } from "../version.js";
import { declineReason, parseRequest, supplementaryGroups, type WarmRequest } from "./request.js";
import { addMember, leavePool, markReady, memberCount, poolDir, readyCount, releaseLoadingTurn, unmarkReady } from "./pool.js";
import { claimSocket, warmSocketPath } from "./socket.js";

interface Addon {
  receive(fd: number, timeoutMs: number): { pid: number; uid: number; gid: number; fds: number[]; payload: Buffer };
  dup(fd: number): number;
  dup2(from: number, to: number): void;
  close(fd: number): void;
}

/** Workers kept ready: enough for a few commands in a row without one loading meanwhile (pool.ts). */
const POOL = Math.max(1, Number(process.env.TBUILD_WARM_POOL) || 6);
/** A burst that finds none ready grows the pool up to this many processes; the extra ones leave after EXTRA_IDLE_MS. */
const MAX_MEMBERS = Math.max(POOL, 10);
const EXTRA_IDLE_MS = 60_000;
const IDLE_MS = (Number(process.env.TBUILD_WARM_IDLE) || 600) * 1000;
/** How long a connected client may take to send its request. */
const REQUEST_TIMEOUT_MS = 5000;

const bundleDir = path.dirname(fileURLToPath(import.meta.url));
/** What runs a worker: bundle/warm.js loads this file, bundle/warm-worker.js, with its code cache. */
const warmJs = path.join(bundleDir, "warm.js");
const warmWait = path.join(bundleDir, "native", "warm-wait");
const addon = createRequire(import.meta.url)("./native/warm.node") as Addon;
const startEnv = { ...process.env };
const self = { startEnv, gid: process.getegid!(), groups: supplementaryGroups(process.pid) ?? [] };

/** Loads what a command would load on its way: every command's module and the built-ins they use. */
async function preload(): Promise<void> {
  createProgram(cliVersion, []);
  await Promise.all([...actionLoaders].map((load) => load()));
  // The bundle loads these three on first use (scripts/bundle.mjs, lazy-builtins).
  void zlib.gzip, workerThreads.Worker, spawn;
}

/**
 * A worker waiting on the listening socket `listeningFd` (fd 3 in it), started with this
 * process's first environment. A successor waits for its turn to load (pool.ts).
 */
function spawnWorker(socket: string, listeningFd: number, successor: boolean): void {
  const argv = [process.execPath, warmJs, "--socket", socket, ...(successor ? ["--successor"] : [])];
  if (process.geteuid!() === 0) argv.unshift("nice", "-n", String(WAITING_NICE));
  // Node's start too waits for a quiet moment (native/warm-wait.c).
  if (successor && existsSync(warmWait)) argv.unshift(warmWait, poolDir(socket));
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", "ignore", "ignore", listeningFd], env: startEnv });
  child.unref();
  if (child.pid !== undefined) addMember(socket, child.pid);
}

function fdOf(handleOwner: net.Server | net.Socket): number {
  return (handleOwner as unknown as { _handle: { fd: number } })._handle.fd;
}

/** Writes one message to the client: a letter and 32-bit numbers. */
function tell(fd: number, letter: "A" | "X" | "S", ...n: number[]): void {
  const msg = Buffer.alloc(1 + 4 * n.length);
  msg.write(letter);
  n.forEach((v, i) => msg.writeInt32LE(v, 1 + 4 * i));
  try {
    writeSync(fd, msg);
  } catch {
    // the client is gone
  }
}

/** Signals that end a command that does not handle them (Node's default): the client dies of them too. */
const FATAL_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Becomes the client's command: its fds, directory, umask, environment and arguments. At its
 * end it tells the client the exit code ("X") or the signal it dies of ("S") with its peak
 * RSS, lets go of the client's fds and only then starts its successor, so that start is not
 * the command's.
 */
function run(sock: net.Socket, fd: number, fds: number[], req: WarmRequest, successor: () => void): void {
  tell(fd, "A", process.pid);
  // Nothing has touched process.stdin/stdout/stderr yet: Node makes them on first use, for
  // what fds 0-2 are then (a terminal stays a terminal).
  fds.forEach((from, to) => {
    addon.dup2(from, to);
    addon.close(from);
  });
  let ended = false;
  const end = (letter: "X" | "S", n: number) => {
    if (ended) return;
    ended = true;
    // With the worker's peak RSS: the memory the command took is this process's, not the client's.
    tell(fd, letter, n, Math.min(process.resourceUsage().maxRSS, 0x7fffffff));
    // A reader of the client's output sees its end now, not after the successor's start.
    const devNull = openSync("/dev/null", "r+");
    for (let i = 0; i < 3; i++) addon.dup2(devNull, i);
    successor();
  };
  process.on("exit", (code) => end("X", code));
  // A signal the command does not handle ends it as Node's default would: the handler steps
  // aside and the signal comes again, with no listener left.
  for (const sig of FATAL_SIGNALS) {
    const asDefault = () => {
      if (process.listenerCount(sig) > 1) return;
      process.off(sig, asDefault);
      end("S", osConstants.signals[sig]);
      process.kill(process.pid, sig);
    };
    process.on(sig, asDefault);
  }
  // A client that goes away (killed) takes its command with it, as a closed terminal would.
  sock.on("error", () => undefined);
  sock.once("end", () => process.kill(process.pid, "SIGHUP"));
  sock.resume();
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, req.env);
  process.argv = [process.execPath, path.join(bundleDir, "main.js"), ...req.argv];
  process.umask(req.umask);
  exitWhenOutputCloses();
  try {
    process.chdir(req.cwd);
  } catch (err) {
    process.stderr.write(`tbuild: cannot enter ${req.cwd}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  void entry(req.argv).then((code) => process.exit(code));
}

/**
 * The seed binds the socket, starts POOL workers on it and exits. It never closes the socket:
 * Node removes the path of a socket it bound when it closes it, and the workers keep using it.
 */
async function seed(): Promise<void> {
  const socket = warmSocketPath(path.join(bundleDir, "warm-worker.js"));
  const server = net.createServer();
  if (await claimSocket(server, socket)) for (let i = 0; i < POOL; i++) spawnWorker(socket, fdOf(server), false);
  process.exit(0);
}

/**
 * While it loads and waits a worker gives way to the commands running (a successor starts as
 * the next command does, on the same cores): it lowers its priority when it can raise it again
 * to its client's (root), and takes its client's when it runs the command (`nice tbuild …`).
 */
const WAITING_NICE = 10;

/** Takes process `pid`'s priority; false when this process may not (a user cannot raise its own). */
function adoptPriority(pid: number): boolean {
  try {
    const want = getPriority(pid);
    if (getPriority() !== want) setPriority(want);
    return true;
  } catch {
    return false;
  }
}

/** A worker: loads everything, then serves the first client it may serve. */
async function serve(socket: string): Promise<void> {
  if (process.geteuid!() === 0) setPriority(Math.max(getPriority(), WAITING_NICE));
  await preload();
  // Listening only now: a client must not wait for this worker while others are ready.
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen({ fd: 3 }, resolve));
  markReady(socket);
  releaseLoadingTurn(socket);
  const leave = () => {
    leavePool(socket);
    process.exit(0);
  };
  // Unused for a while: an extra worker (more than POOL ready) leaves, the others later.
  const idleTimer = () =>
    setTimeout(() => {
      if (readyCount(socket) > POOL) leave();
      else idle = setTimeout(leave, IDLE_MS - EXTRA_IDLE_MS);
    }, Math.min(EXTRA_IDLE_MS, IDLE_MS));
  let idle = idleTimer();
  let taken = false;
  server.on("connection", (sock) => {
    // Accepted with another in the same turn: its client sees the socket close unanswered and tries once more.
    if (taken) return sock.destroy();
    clearTimeout(idle);
    const fd = fdOf(sock);
    let got: ReturnType<Addon["receive"]> | undefined;
    try {
      got = addon.receive(fd, REQUEST_TIMEOUT_MS);
      const req = parseRequest(got.payload);
      const why = declineReason(req, got, self) ?? (adoptPriority(got.pid) ? undefined : "a higher priority than the worker may take");
      if (why === undefined) {
        taken = true;
        unmarkReady(socket);
        // The last ready one taken: commands come faster than the pool, which grows by one.
        const successors = readyCount(socket) === 0 && memberCount(socket) < MAX_MEMBERS ? 2 : 1;
        const listening = addon.dup(fdOf(server));
        server.close();
        return run(sock, fd, got.fds, req, () => {
          leavePool(socket);
          // The private directory was removed meanwhile (a logout, a test's clean-up): the pool is over.
          if (!existsSync(poolDir(socket))) return;
          for (let i = 0; i < successors; i++) spawnWorker(socket, listening, true);
        });
      }
      writeSync(fd, `D${why}\n`);
    } catch {
      // not a client of ours, or one that gave up: nothing ran
    }
    for (const f of got?.fds ?? []) addon.close(f);
    sock.destroy();
    idle = idleTimer();
  });
}

function start(argv: string[]): Promise<void> {
  const [mode, socket] = argv;
  if (mode === "--seed") return seed();
  if (mode === "--socket" && socket) return serve(socket);
  throw new Error("usage: warm.js --seed | --socket SOCKET [--successor]");
}

start(process.argv.slice(2)).catch(() => process.exit(1));
