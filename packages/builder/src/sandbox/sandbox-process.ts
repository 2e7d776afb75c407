// Starts the host-side process of a sandbox (tbuild-enter, or runc's setup shell) and
// supervises it. Its file descriptors: 0 /dev/null, 1 the command's stdout, 2 the setup log
// (mount errors …), 3 the command's stderr, 4 a lifeline socket to us. It says "started" on
// the lifeline right before it execs the command (tbuild-enter adds "exec-failed N" when the
// exec fails, and "pid N", the host pid of the sandbox's pid 1, which containers record), and kills every process of the sandbox's pid namespace when the lifeline
// reaches EOF, which is what happens when we close it (abort) or when this process dies,
// even by SIGKILL.
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

export interface SandboxProcessOptions {
  argv: string[];
  env: Record<string, string>;
  stdout: (b: Buffer) => void;
  stderr: (b: Buffer) => void;
  signal?: AbortSignal;
}

export interface SandboxProcessResult {
  /** The setup script reached the command. */
  started: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  aborted: boolean;
  setupLog: string;
  /** The last bytes the command wrote to stderr (for recognising helper errors). */
  stderrTail: string;
  /** The errno of a failed exec of the command, when the helper reported one on the lifeline. */
  execError?: number;
}

const TAIL = 1024;

/** Runs the sandbox's host process to its end; never rejects for the command's failures. */
export function runSandboxProcess(opts: SandboxProcessOptions): Promise<SandboxProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.argv[0]!, opts.argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: opts.env,
    });
    let started = false;
    let aborted = false;
    let setupLog = "";
    let stderrTail = "";
    const [, out, log, err, life] = child.stdio as unknown as [null, Readable, Readable, Readable, Readable & { destroy(): void }];
    out.on("data", (b: Buffer) => opts.stdout(b));
    err.on("data", (b: Buffer) => {
      stderrTail = (stderrTail + b.toString("utf8")).slice(-TAIL);
      opts.stderr(b);
    });
    log.on("data", (b: Buffer) => {
      if (setupLog.length < 16384) setupLog += b.toString("utf8");
    });
    let lifeText = "";
    life.on("data", (b: Buffer) => {
      lifeText += b.toString("utf8");
      if (lifeText.includes("started\n")) started = true;
    });
    life.on("error", () => {});
    const onAbort = () => {
      aborted = true;
      life.destroy();
      child.kill("SIGKILL");
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      const failed = /^exec-failed (\d+)$/m.exec(lifeText);
      resolve({ started, code, signal, aborted, setupLog: setupLog.trim(), stderrTail, ...(failed ? { execError: Number(failed[1]) } : {}) });
    });
  });
}
