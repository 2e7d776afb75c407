// The `tbuild` command on PATH (packages/cli/bundle/native/tbuild, tbuild-client.c) and its
// warm workers (packages/cli/src/warm): a command handed to a worker must be the command a
// cold `node main.js` would have run — same fds (the very file descriptions), directory,
// umask, environment, output, exit code and signals — and only this user may hand one over.
// Needs root (setpriv to another uid) and the client built (npm run build; gcc, Node's headers).
import { type ChildProcess, execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "..");
const client = path.join(repo, "packages/cli/bundle/native/tbuild");
const mainJs = path.join(repo, "packages/cli/bundle/main.js");
const work = mkdtempSync("/dev/shm/tbuild-warm-");
const runtime = path.join(work, "run");
const sockDir = path.join(runtime, "tbuild");
const store = path.join(work, "store");
const ctx = path.join(work, "ctx");

const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtime, TBUILD_WARM_IDLE: "300", NO_COLOR: "1", TERM: "xterm", TBUILD_WARM_DEBUG: "1" };
for (const k of ["TBUILD_WARM", "TBUILD_DEBUG", "FORCE_COLOR", "TBUILD_ROOT"]) delete env[k];

/** `tbuild --root STORE ARGS` through the client. */
function client_(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: Buffer } = {}): SpawnSyncReturns<string> {
  return spawnSync(client, ["--root", store, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd ?? work, input: opts.input, encoding: "utf8", timeout: 120_000 });
}

/** The same command cold: node main.js, as before the client. */
function cold(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [mainJs, "--root", store, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd ?? work, encoding: "utf8", timeout: 120_000 });
}

/** Processes whose command line contains `needle`. */
function processesWith(needle: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) found.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return found.sort((a, b) => a - b);
}

/** Every process of this file's pool: workers, and successors waiting to start (warm-wait). */
const poolProcesses = () => processesWith(`${sockDir}/`);

/** The workers ready for a client (ready.PID files of live processes in the pool's directory). */
function readyWorkers(): number[] {
  const live = new Set(poolProcesses());
  const pids: number[] = [];
  for (const pool of existsSync(sockDir) ? readdirSync(sockDir).filter((n) => n.endsWith(".sock.d")) : []) {
    let names: string[];
    try {
      names = readdirSync(path.join(sockDir, pool));
    } catch {
      continue; // a seed replacing this pool's directory meanwhile
    }
    for (const name of names) {
      if (name.startsWith("ready.") && live.has(Number(name.slice(6)))) pids.push(Number(name.slice(6)));
    }
  }
  return pids.sort((a, b) => a - b);
}

/** True while a process listens on a socket in the pool's directory (/proc/net/unix: flag __SO_ACCEPTCON). */
function poolListens(): boolean {
  return readFileSync("/proc/net/unix", "utf8")
    .split("\n")
    .some((line) => line.includes(` ${sockDir}/`) && line.trim().split(/\s+/)[3] === "00010000");
}

/** Kills every process of this file's pool, pass after pass until none is left and the socket is closed. */
async function killPool(): Promise<void> {
  // A worker ending its command starts successors after a pass has listed the processes; a
  // killed process's command line empties before its fds close.
  await waitFor("the pool to end", () => {
    for (const pid of poolProcesses()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    return poolProcesses().length === 0 && !poolListens();
  });
}

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const POOL = 6;
const someReady = () => waitFor("a ready worker", () => readyWorkers().length > 0);

/** With TBUILD_WARM_DEBUG=1 the client says so on stderr when a worker ran the command. */
const WARM_LINE = /^tbuild: ran in warm worker \d+ \(peak RSS \d+ KB\)\n/m;
const ranWarm = (stderr: string) => WARM_LINE.test(stderr);
/** stderr without the client's debug lines (ran warm, starting cold). */
const withoutDebug = (stderr: string) => stderr.replace(WARM_LINE, "").replace(/^tbuild: starting cold: .*\n/m, "");

/** Runs `command` once a worker is ready; `warm`: a worker ran it (the client's debug line). */
async function observe<T extends { stderr: string }>(command: () => T | Promise<T>): Promise<{ result: T; warm: boolean }> {
  await someReady();
  const result = await command();
  return { result, warm: ranWarm(result.stderr) };
}

beforeAll(() => {
  expect(existsSync(client), `${client} is missing: npm run build builds it (needs gcc and Node's headers)`).toBe(true);
  mkdirSync(runtime, { mode: 0o700 });
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nARG FOO\nLABEL foo=$FOO\nCOPY hello.txt /\n");
  writeFileSync(path.join(ctx, "hello.txt"), "hello\n");
  const rootfs = path.join(work, "rootfs.tar");
  execFileSync("bash", [path.join(repo, "fixtures/base/busybox-rootfs.sh"), rootfs], { stdio: "pipe" });
  expect(cold(["import", rootfs, "busybox:latest"]).status).toBe(0);
});

/** A child's exit, with its stderr. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })));
}

afterAll(async () => {
  await killPool();
  rmSync(work, { recursive: true, force: true });
});

describe("the tbuild client and its warm workers", () => {
  it("runs the first command cold and starts the workers; the next runs in one of them", async () => {
    const first = client_(["version"]);
    expect(first.status).toBe(0);
    expect(ranWarm(first.stderr)).toBe(false);
    await waitFor("the pool", () => readyWorkers().length === POOL);
    expect(statSync(sockDir).mode & 0o777).toBe(0o700);
    const { result, warm } = await observe(() => client_(["version"]));
    expect(warm).toBe(true);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(cold(["version"]).stdout);
  });

  it("runs with the client's working directory, arguments, environment and umask", async () => {
    // A relative context, a build argument taken from the environment.
    const built = await observe(() => client_(["build", "-q", "--build-arg", "FOO", "-t", "warm:1", "ctx"], { env: { FOO: "from-the-client" } }));
    expect(built.warm).toBe(true);
    expect(built.result.status).toBe(0);
    const labels = (ref: string) => JSON.parse(cold(["inspect", ref]).stdout)[0].Config.Labels;
    expect(labels("warm:1")).toEqual({ foo: "from-the-client" });
    // The next worker has nothing of the previous command's environment.
    expect((await observe(() => client_(["build", "-q", "--build-arg", "FOO", "-t", "warm:2", "ctx"]))).warm).toBe(true);
    expect(labels("warm:2")?.foo ?? "").toBe("");
    // The umask: save creates its archive 0666 & ~umask.
    const saved = await observe(() => spawnSync("sh", ["-c", `umask 077; exec "$0" --root "$1" save -o saved.tar warm:1`, client, store], { env, cwd: work, encoding: "utf8" }));
    expect(saved.warm).toBe(true);
    expect(saved.result.status).toBe(0);
    expect(statSync(path.join(work, "saved.tar")).mode & 0o777).toBe(0o600);
  });

  it("prints the same output and exits with the same code as a cold run, errors included", async () => {
    for (const args of [["images", "-q"], ["inspect", "warm:1"], ["build", "no-such-dir"], ["images", "--bogus"], ["inspect", "no-such-image"]]) {
      const { result, warm } = await observe(() => client_(args));
      const reference = cold(args);
      expect(warm).toBe(true);
      expect({ status: result.status, stdout: result.stdout, stderr: withoutDebug(result.stderr) }).toEqual({ status: reference.status, stdout: reference.stdout, stderr: reference.stderr });
    }
  });

  it("writes through the client's own stdout (a shared file offset) and reads its stdin", async () => {
    const out = path.join(work, "out.txt");
    const shell = `{ echo before; "$0" --root "$1" images; echo after; } > "$2"`;
    const listed = await observe(() => spawnSync("sh", ["-c", shell, client, store, out], { env, encoding: "utf8" }));
    expect(listed.warm).toBe(true);
    const lines = readFileSync(out, "utf8").split("\n");
    expect(lines[0]).toBe("before");
    expect(lines.some((l) => l.startsWith("warm "))).toBe(true);
    expect(lines.at(-2)).toBe("after");
    // `import -` reads the root filesystem from stdin.
    const imported = await observe(() => client_(["import", "-", "from-stdin:1"], { input: readFileSync(path.join(work, "rootfs.tar")) }));
    expect(imported.warm).toBe(true);
    expect(imported.result.status).toBe(0);
    expect(cold(["images"]).stdout).toContain("from-stdin");
  });

  it("gives a terminal to the worker as a terminal: the build shows its live display", async () => {
    const run = await observe(() => spawnSync("script", ["-qefc", `"${client}" --root "${store}" build --progress auto -t tty:1 ctx`, "/dev/null"], { env, cwd: work, encoding: "utf8" }));
    expect(run.result.status).toBe(0);
    expect(run.result.stdout).toContain("\x1b[2K");
    expect(run.result.stdout).toMatch(/tbuild: ran in warm worker/);
    // Piped, the same build prints plain lines.
    expect(client_(["build", "--progress", "auto", "-t", "tty:1", "ctx"]).stderr).not.toContain("\x1b[");
  });

  it("passes Ctrl-C on: the build in the worker stops (130) and its RUN process with it", async () => {
    const sleepCtx = path.join(work, "sleep");
    mkdirSync(sleepCtx);
    writeFileSync(path.join(sleepCtx, "Dockerfile"), "FROM busybox\nRUN sleep 311\n");
    const { result, warm } = await observe(async () => {
      const child = spawn(client, ["--root", store, "build", "--progress", "plain", sleepCtx], { env, stdio: ["ignore", "ignore", "pipe"] });
      const exited = exitOf(child);
      await waitFor("the RUN step", () => processesWith("sleep\x00311").length > 0);
      child.kill("SIGINT");
      return exited;
    });
    expect(warm).toBe(true);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 130, signal: null });
    await waitFor("the RUN step to end", () => processesWith("sleep\x00311").length === 0);
  });

  it("dies of a signal the worker died of, as a cold command would", async () => {
    // A registry that accepts and never answers: the push waits until it is interrupted.
    const { createServer } = await import("node:net");
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      expect(cold(["tag", "warm:1", `127.0.0.1:${port}/silent:1`]).status).toBe(0);
      const { result, warm } = await observe(async () => {
        const child = spawn(client, ["--root", store, "push", `127.0.0.1:${port}/silent:1`], { env, stdio: ["ignore", "ignore", "pipe"] });
        const exited = exitOf(child);
        await new Promise((r) => setTimeout(r, 500));
        child.kill("SIGTERM");
        return exited;
      });
      expect(warm).toBe(true);
      expect({ code: result.code, signal: result.signal }).toEqual({ code: null, signal: "SIGTERM" });
    } finally {
      silent.close();
    }
  });

  it("starts cold what it must not run in a worker, or when asked to", async () => {
    // Containers get the terminal and outlive commands: cold.
    const ps = await observe(() => client_(["ps", "-a"]));
    expect(ps.warm).toBe(false);
    expect(ps.result.stdout).toBe(cold(["ps", "-a"]).stdout);
    // Another Node start-up option than the workers': cold, saying why when asked.
    const other = await observe(() => client_(["version"], { env: { NODE_OPTIONS: "--max-old-space-size=200", TBUILD_WARM_DEBUG: "1" } }));
    expect(other.warm).toBe(false);
    expect(other.result.status).toBe(0);
    expect(other.result.stderr).toContain("NODE_OPTIONS differs");
    // TBUILD_WARM=0.
    const off = await observe(() => client_(["version"], { env: { TBUILD_WARM: "0" } }));
    expect(off.warm).toBe(false);
    expect(off.result.status).toBe(0);
  });

  it("sends nothing to a socket directory others may enter", async () => {
    chmodSync(sockDir, 0o755);
    try {
      const r = await observe(() => client_(["version"]));
      expect(r.warm).toBe(false);
      expect(r.result.status).toBe(0);
    } finally {
      chmodSync(sockDir, 0o700);
    }
  });

  it("refuses a request from another user before anything runs", async () => {
    const [socket] = readdirSync(sockDir).filter((n) => n.endsWith(".sock"));
    const sock = path.join(sockDir, socket!);
    // A well-formed request (stdin, stdout and stderr attached, this environment) asking for a store.
    const sender = [
      "import os, socket, struct, sys",
      "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
      "fields = [b'/', b'22', b'3', b'--root', os.environ['STORE'].encode(), b'images'] + [f'{k}={v}'.encode() for k, v in os.environ.items()]",
      "payload = b''.join(f + b'\\0' for f in fields)",
      "try:",
      "    socket.send_fds(s, [b'TBW1'], [0, 1, 2])",
      "    s.sendall(struct.pack('<I', len(payload)) + payload)",
      "    first = s.recv(1)",
      "    while s.recv(64): pass",
      "except (ConnectionResetError, BrokenPipeError):",
      "    first = b''",
      "print(repr(first))",
    ].join("\n");
    const send = (argv: string[]) => execFileSync(argv[0]!, [...argv.slice(1), "/usr/bin/python3", "-c", sender, sock], { env, encoding: "utf8" }).trim().split("\n").at(-1);
    // Let another user reach the socket at all (the directory and socket modes stop it first).
    for (const dir of [work, runtime, sockDir]) chmodSync(dir, 0o711);
    chmodSync(sock, 0o777);
    try {
      const foreign = path.join(work, "foreign-store");
      await someReady();
      const before = readyWorkers();
      expect(send(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/env", `STORE=${foreign}`])).toBe("b''");
      // Every worker that was ready still is: none took the request.
      expect(readyWorkers()).toEqual(expect.arrayContaining(before));
      expect(existsSync(foreign)).toBe(false);
    } finally {
      for (const dir of [work, runtime, sockDir]) chmodSync(dir, 0o700);
      chmodSync(sock, 0o755);
    }
    // The same request from this user is run: the refusal above was the uid's.
    const own = path.join(work, "own-store");
    await someReady();
    expect(send(["/usr/bin/env", `STORE=${own}`])).toBe("b'A'");
    await waitFor("the store the request asked for", () => existsSync(own));
  });

  it("starts the workers again when all of them are gone, and sweeps earlier bundles' sockets", async () => {
    await someReady();
    // An earlier bundle's socket whose workers are gone: a socket file nobody listens on.
    const stale = path.join(sockDir, "warm-1-2-3.sock");
    spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, "SIGKILL"))`]);
    mkdirSync(`${stale}.d`);
    expect(existsSync(stale)).toBe(true);
    await killPool();
    const r = client_(["version"]);
    expect(r.status).toBe(0);
    expect(ranWarm(r.stderr)).toBe(false);
    expect((await observe(() => client_(["images"]))).warm).toBe(true);
    expect(existsSync(stale) || existsSync(`${stale}.d`)).toBe(false);
  });

  it("starts the workers when the pool goes away as a client connects", async () => {
    await someReady();
    const [name] = readdirSync(sockDir).filter((n) => n.endsWith(".sock"));
    const sock = path.join(sockDir, name!);
    await killPool();
    // A listener that accepts one connection, stops listening (its socket file left behind, as
    // a killed pool leaves it) and drops the connection unanswered: what a client meets when
    // the last workers exit between its connect and their accept.
    rmSync(sock, { force: true });
    const dying = spawn("/usr/bin/python3", ["-c", "import socket, sys\ns = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)\nprint('listening', flush=True)\nc, _ = s.accept(); s.close(); c.close()", sock], { stdio: ["ignore", "pipe", "inherit"] });
    const gone = new Promise((resolve) => dying.on("close", resolve));
    await new Promise((resolve) => dying.stdout!.once("data", resolve));
    const r = client_(["version"]);
    await gone;
    expect(r.status).toBe(0);
    expect(ranWarm(r.stderr)).toBe(false);
    // Nobody listened on the second try: that cold command started the workers.
    expect((await observe(() => client_(["images"]))).warm).toBe(true);
  });
});
