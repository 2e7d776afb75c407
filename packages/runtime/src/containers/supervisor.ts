// Supervises one container: prepares its rootfs (overlay of the image's snapshots and its
// upper dir), mounts and network, starts tbuild-enter with the same sandbox configuration
// as a RUN step (UnshareExecutor.prepareProcess), records the state, writes the log, and
// applies the restart policy. It runs in the detached monitor process (tbuild-monitor.ts)
// or, for a foreground `tbuild run`, in the CLI itself. The sandbox dies with its
// supervisor (the helper's lifeline), so a container never outlives the process that
// records its state.
import { spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { execFailed, LayeredView, resolveUser, setupFailed, UnshareExecutor, type MountSpec, type RunSpec } from "@tbuild/builder";
import { processStartTime, Store } from "@tbuild/cache";
import { RuntimeError } from "../errors.js";
import { attachNetwork, detachNetwork } from "../networks/attach.js";
import { publishPorts } from "../networks/port-proxy.js";
import { fillVolumeOnFirstUse, getVolume } from "../volumes/volume-store.js";
import { ContainerStore, type Container } from "./container-store.js";
import { runHealthchecks } from "./healthcheck.js";
import { imageLowers } from "./image-rootfs.js";
import { LogWriter } from "./log-file.js";
import { removeContainer } from "./remove.js";

export interface SuperviseIO {
  /** The container's stdin: the caller's fd 0 (`-i` in the foreground) or nothing. */
  stdin: "inherit" | "ignore";
  /** Output besides the log (the foreground terminal). */
  stdout?: (b: Buffer) => void;
  stderr?: (b: Buffer) => void;
  /** Called once, when the first start succeeded (the command was exec'd) or failed. */
  onStart?: (err?: Error) => void;
  /** Receives the helper's pid while it runs, for forwarding signals (foreground). */
  onHelper?: (pid: number | undefined) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Supervisor {
  private readonly containers: ContainerStore;
  private started = false;
  /** The container's user, resolved against its rootfs at the last start. */
  private user = { uid: 0, gid: 0, additionalGids: [] as number[] };

  constructor(private readonly root: string, private readonly id: string) {
    this.containers = new ContainerStore(root);
  }

  /** Runs the container until it ends for good (restart policy applied); returns its last exit code. */
  async run(io: SuperviseIO): Promise<number> {
    const c = await this.containers.load(this.id);
    if (!c) throw new RuntimeError(`no such container: ${this.id}`);
    await this.containers.clearStopRequest(c);
    await this.containers.writeState(c, { monitorPid: process.pid, monitorStart: processStartTime(process.pid), error: "" });
    let code = 0;
    try {
      for (let attempt = 0; ; attempt++) {
        const began = Date.now();
        code = await this.runOnce(c, io);
        await this.containers.refresh(c);
        const p = c.config.restart;
        const again = !this.containers.stopRequested(c) && (p.name === "always" || p.name === "unless-stopped" || (p.name === "on-failure" && code !== 0 && (p.maximumRetryCount === 0 || c.state.restartCount < p.maximumRetryCount)));
        if (!again) break;
        // Docker's back-off: doubling from 100 ms, reset after 10 s of running.
        if (Date.now() - began > 10_000) attempt = 0;
        await this.containers.writeState(c, { status: "restarting", restartCount: c.state.restartCount + 1 });
        // The back-off ends early when a stop is asked for.
        for (let waited = 0, wait = Math.min(100 * 2 ** attempt, 60_000); waited < wait && !this.containers.stopRequested(c); waited += 100) await sleep(Math.min(100, wait - waited));
        await this.containers.refresh(c);
        if (this.containers.stopRequested(c)) {
          await this.containers.writeState(c, { status: "exited" });
          break;
        }
      }
    } catch (e) {
      await this.containers.writeState(c, { status: "exited", pid: 0, exitCode: (e as RuntimeError).exitStatus ?? 125, error: (e as Error).message, finishedAt: new Date().toISOString(), attachment: undefined });
      if (!this.started) io.onStart?.(e as Error);
      if (c.config.autoRemove) await removeContainer(this.root, c, { volumes: true });
      throw e;
    }
    if (c.config.autoRemove) await removeContainer(this.root, c, { volumes: true });
    return code;
  }

  private async runOnce(c: Container, io: SuperviseIO): Promise<number> {
    const store = await Store.open(this.root);
    const lease = await store.lease();
    const cleanups: (() => Promise<void> | void)[] = [async () => lease.release(), () => store.close()];
    const cfg = c.config;
    try {
      const lowers = await imageLowers(store, cfg.image, lease);
      const upper = path.join(c.dir, "upper");
      const work = path.join(c.dir, "work");
      // The work dir is scratch between mounts; a fresh one also drops overlay's volatile marker.
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { mode: 0o700 });
      const view = new LayeredView([upper, ...lowers]);
      let user;
      try {
        user = await resolveUser(view, cfg.user);
      } catch (e) {
        throw new RuntimeError(`unable to find user ${cfg.user}: ${(e as Error).message}`, { cause: e });
      }
      this.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.filter((g) => g !== user.gid) };
      const mounts: MountSpec[] = [];
      for (const m of cfg.mounts) {
        if (m.type === "bind") mounts.push({ type: "bind", source: m.source, target: m.target, readonly: m.readonly });
        else if (m.type === "tmpfs") mounts.push({ type: "tmpfs", target: m.target, ...(m.size !== undefined ? { size: m.size } : {}), ...(m.mode !== undefined ? { mode: m.mode } : {}) });
        else {
          const vol = await getVolume(this.containers.layout, m.name);
          if (!vol) throw new RuntimeError(`volume ${m.name} of this container no longer exists`);
          await fillVolumeOnFirstUse(this.containers.layout, vol, view, m.target, m.nocopy);
          mounts.push({ type: "bind", source: vol.Mountpoint, target: m.target, readonly: m.readonly });
        }
      }
      const net = await attachNetwork(this.containers.layout, c);
      cleanups.unshift(() => detachNetwork(this.containers.layout, c.config, net.attachment));
      if (net.attachment) await this.containers.writeState(c, { attachment: net.attachment });
      const spec: RunSpec = {
        rootfs: { kind: "overlay", lowers, upper, work },
        args: cfg.args,
        env: cfg.env,
        cwd: cfg.workingDir,
        user: this.user,
        hostname: cfg.hostname,
        network: net.mode,
        mounts,
        readonlyRootfs: cfg.readOnly,
        etcHosts: net.etcHosts,
        resolvConf: net.resolvConf,
        stdout: () => {},
        stderr: () => {},
      };
      const executor = UnshareExecutor.create();
      let proc;
      try {
        proc = await executor.prepareProcess(spec, { stdin: io.stdin === "inherit", tty: cfg.tty, ...(net.netns ? { netns: net.netns } : {}) });
      } catch (e) {
        const m = /executable file not found|no such file or directory|not found/i.test((e as Error).message) ? 127 : undefined;
        throw new RuntimeError(`failed to start container ${cfg.name}: ${(e as Error).message}`, { cause: e, ...(m ? { exitStatus: m } : {}) });
      }
      cleanups.unshift(() => proc.release());
      await net.onHostsFile?.(proc.hostsFile);
      if (net.ipAddress && cfg.ports.length > 0) {
        const proxies = await publishPorts(cfg.ports, net.ipAddress);
        cleanups.unshift(() => proxies.close());
      }
      return await this.spawnHelper(c, proc.argv, io);
    } finally {
      for (const f of cleanups) await Promise.resolve().then(f).catch(() => {});
    }
  }

  /** Starts the helper and follows it to its end. */
  private spawnHelper(c: Container, argv: string[], io: SuperviseIO): Promise<number> {
    return new Promise((resolve, reject) => {
      // A session of its own: a terminal's signals reach only the caller, which forwards each once (onHelper).
      const child = spawn(argv[0]!, argv.slice(1), { stdio: [io.stdin === "inherit" ? "inherit" : "ignore", "pipe", "pipe", "pipe", "pipe"], env: {}, detached: true });
      io.onHelper?.(child.pid);
      const log = new LogWriter(c.dir);
      const [, out, setup, err, life] = child.stdio as unknown as [null, Readable, Readable, Readable, Readable];
      out.on("data", (b: Buffer) => {
        log.write("stdout", b);
        io.stdout?.(b);
      });
      err.on("data", (b: Buffer) => {
        log.write("stderr", b);
        io.stderr?.(b);
      });
      let setupLog = "";
      setup.on("data", (b: Buffer) => void (setupLog += b.toString("utf8")));
      let lifeText = "";
      let started = false;
      let stopHealth: (() => void) | undefined;
      let pending = Promise.resolve();
      life.on("data", (b: Buffer) => {
        lifeText += b.toString("utf8");
        const pid = /^pid (\d+)$/m.exec(lifeText);
        if (!started && pid && lifeText.includes("started\n")) {
          started = true;
          const n = Number(pid[1]);
          pending = pending.then(async () => {
            await this.containers.writeState(c, { status: "running", pid: n, pidStart: processStartTime(n), exitCode: 0, error: "", startedAt: new Date().toISOString() });
            if (!this.started) {
              this.started = true;
              io.onStart?.();
            }
            if (c.config.healthcheck) stopHealth = runHealthchecks(this.containers, c, n, this.user);
          });
        }
      });
      life.on("error", () => {});
      child.on("error", reject);
      child.on("close", (code, signal) => {
        io.onHelper?.(undefined);
        stopHealth?.();
        log.close();
        pending.then(async () => {
          const failed = /^exec-failed (\d+)$/m.exec(lifeText);
          if (failed) {
            const errno = Number(failed[1]);
            throw new RuntimeError(`failed to start container ${c.config.name}: ${execFailed(c.config.args[0]!, errno).message}`, { exitStatus: errno === 2 ? 127 : 126 });
          }
          if (!started) throw new RuntimeError(`failed to start container ${c.config.name}: ${setupFailed(setupLog.trim(), code ?? signal).message}`);
          const exit = code ?? 128 + 9;
          await this.containers.writeState(c, { status: "exited", pid: 0, exitCode: exit, finishedAt: new Date().toISOString(), attachment: undefined });
          return exit;
        }).then(resolve, reject);
      });
    });
  }
}
