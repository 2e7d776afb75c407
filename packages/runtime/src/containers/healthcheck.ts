// HEALTHCHECK (the image's or compose's): the test runs in the container as `exec` runs a
// command, every interval; `retries` failures in a row make it unhealthy. The status is in
// the state (`ps` shows it; compose's `condition: service_healthy` waits for it).
import { spawn } from "node:child_process";
import { UnshareExecutor } from "@tbuild/builder";
import type { ContainerStore, Container } from "./container-store.js";

type Probe = { exitCode: number; output: string };

function probe(argv: string[], timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "ignore", "pipe", "ignore"], env: {} });
    let output = "";
    const add = (b: Buffer) => void (output = (output + b.toString("utf8")).slice(-4096));
    (child.stdio[1] as NodeJS.ReadableStream).on("data", add);
    (child.stdio[3] as NodeJS.ReadableStream).on("data", add);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, output });
    });
    child.on("error", () => resolve({ exitCode: -1, output: "could not run the health check" }));
  });
}

/** Starts the checks of a running container (pid = its pid 1); returns the stop function. */
export function runHealthchecks(containers: ContainerStore, c: Container, pid: number, user: { uid: number; gid: number; additionalGids: number[] }): () => void {
  const hc = c.config.healthcheck!;
  const argv = hc.test[0] === "CMD-SHELL" ? ["/bin/sh", "-c", hc.test.slice(1).join(" ")] : hc.test[0] === "CMD" ? hc.test.slice(1) : hc.test;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  let streak = 0;
  const log: Probe[] = [];
  const executor = UnshareExecutor.create();
  const once = async () => {
    if (stopped) return;
    const proc = executor.prepareExec({ pid, args: argv, env: c.config.env, cwd: c.config.workingDir, user });
    const begin = new Date().toISOString();
    const r = await probe(proc.argv, hc.timeoutMs);
    await proc.release();
    if (stopped) return;
    log.push(r);
    if (log.length > 5) log.shift();
    streak = r.exitCode === 0 ? 0 : streak + 1;
    const inStart = Date.now() - started < hc.startPeriodMs;
    const cur = c.state.health?.status ?? "starting";
    const status = r.exitCode === 0 ? "healthy" : streak >= hc.retries && !inStart ? "unhealthy" : cur;
    await containers.writeState(c, {
      health: { status, failingStreak: streak, log: log.map((p) => ({ start: begin, end: new Date().toISOString(), exitCode: p.exitCode, output: p.output })) },
    });
    if (!stopped) timer = setTimeout(() => void once().catch(() => {}), hc.intervalMs);
  };
  void containers.writeState(c, { health: { status: "starting", failingStreak: 0, log: [] } }).then(() => {
    timer = setTimeout(() => void once().catch(() => {}), Math.min(hc.intervalMs, 1000));
  });
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
