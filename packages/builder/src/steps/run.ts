// RUN: the command runs in the sandbox on an overlay of the current layers; the upper
// dir it leaves is the new layer.
import { promises as fsp } from "node:fs";
import path from "node:path";
import type { RunInstruction } from "@tbuild/parser";
import type { StepRef } from "../api-types.js";
import { LayeredView } from "../fs/index.js";
import { resolveUser } from "../fileops/index.js";
import type { ImageState } from "../image-state/state.js";
import { layerStep } from "../solve/layer-step.js";
import type { BuildSession } from "../solve/session.js";
import { buildRunCommand, runHistory } from "./run-command.js";
import { prepareRunMounts } from "./run-mounts.js";
import { runPlatformOf } from "./run-platform.js";
import { StepFailedError } from "../solve/errors.js";
import type { RunLimits } from "../sandbox/limits.js";

export interface RunContext {
  session: BuildSession;
  step: StepRef;
  noCache: boolean;
  /** The environment of the process: ARGs in scope, then ENV (ENV wins). */
  env: string[];
  /** Build args declared in the stage with their effective values, for the history entry. */
  historyArgs: { name: string; value: string }[];
}

export async function runStep(ctx: RunContext, state: ImageState, inst: RunInstruction): Promise<ImageState> {
  const { session, step } = ctx;
  const cfg = state.config.config ?? {};
  const cmd = buildRunCommand(inst.form, inst.command, inst.heredocs, cfg.Shell);
  const cwd = cfg.WorkingDir || "/";
  const user = cfg.User ?? "";
  const network = inst.network ?? session.opts.network ?? "default";
  checkRunnable(session, inst);
  const mounts = await prepareRunMounts(session, state, inst.mounts, cmd.script);
  try {
    const inputs = {
      v: 1,
      op: "run",
      parent: state.fsKey,
      argv: cmd.argv,
      script: cmd.script ?? null,
      env: keyEnv(ctx.env, ctx.historyArgs),
      cwd,
      user,
      network,
      security: inst.security ?? "sandbox",
      mounts: mounts.keyParts,
      // The platform it runs on (a build-platform stage's RUN is the same under every target).
      platform: runPlatformOf(session, state),
    };
    const explain = { args: ctx.historyArgs.map((a) => a.name) };
    return await layerStep(session, step, state, { inputs, createdBy: runHistory(cmd.argv, ctx.historyArgs), noCache: ctx.noCache, explain }, async (draft) => {
      const layers = await session.layerDirs(state);
      const who = await resolveUser(new LayeredView(layers), user);
      const [executor, snapshotter] = await Promise.all([session.executor(), session.snapshotter()]);
      const scratch = path.join(draft.dir, "scratch");
      await fsp.mkdir(scratch, { recursive: true });
      const rootfs = await snapshotter.prepare(layers, scratch);
      const tail = new OutputTail();
      let exitCode: number;
      try {
        await mounts.open();
        ({ exitCode } = await session.runLimiter.run(() =>
          executor.run(
            {
              rootfs,
              args: cmd.argv,
              env: [...ctx.env, ...mounts.env],
              cwd,
              // The primary gid stays among the supplementary groups, as BuildKit ≥ v0.12 puts it
              // there for every user (executor/oci/user.go, ensureAdditionalGids); 0.8 left it out.
              user: { uid: who.uid, gid: who.gid, additionalGids: who.additionalGids },
              hostname: "buildkitsandbox",
              network,
              mounts: mounts.specs,
              limits: runLimits(session),
              ...(inst.security === "insecure" ? { privileged: true } : {}),
              stdout: (b) => emitLog(session, step, "stdout", b, tail),
              stderr: (b) => emitLog(session, step, "stderr", b, tail),
            },
            session.signal,
          ),
        ));
        if (exitCode !== 0) throw new StepFailedError(step, cmd.argv, exitCode, tail.lines());
        const diff = await snapshotter.diff(rootfs, layers);
        await fsp.rm(draft.path, { recursive: true, force: true });
        await fsp.rename(diff, draft.path);
      } finally {
        await mounts.close();
        await snapshotter.release(rootfs).catch(() => {});
        await fsp.rm(scratch, { recursive: true, force: true });
      }
    });
  } finally {
    await mounts.dispose();
  }
}

/** The build's --ulimit, --memory, --memory-swap and --pids-limit (not part of the cache key, as in Docker). */
function runLimits(session: BuildSession): RunLimits | undefined {
  const o = session.opts;
  if (!o.ulimits?.length && o.memory === undefined && o.pidsLimit === undefined) return undefined;
  return {
    ...(o.ulimits?.length ? { ulimits: o.ulimits } : {}),
    ...(o.memory !== undefined ? { memory: o.memory } : {}),
    ...(o.memorySwap !== undefined ? { memorySwap: o.memorySwap } : {}),
    ...(o.pidsLimit !== undefined ? { pids: o.pidsLimit } : {}),
  };
}

function emitLog(session: BuildSession, step: StepRef, stream: "stdout" | "stderr", b: Buffer, tail: OutputTail): void {
  const data = b.toString("utf8");
  tail.push(data);
  session.emit({ type: "step-log", step, stream, data, time: Date.now() });
}

/** The last lines a step printed, for the error message of a failed RUN. */
class OutputTail {
  private text = "";
  push(s: string): void {
    this.text = (this.text + s).slice(-8192);
  }
  lines(n = 20): string[] {
    return this.text.replace(/\n$/, "").split("\n").slice(-n);
  }
}

/** Refuses what this sandbox cannot do, before anything runs. */
function checkRunnable(session: BuildSession, inst: RunInstruction): void {
  if (inst.security === "insecure" && !session.opts.allow?.includes("security.insecure")) {
    // BuildKit refuses it the same way unless the build was granted the entitlement.
    throw new Error("RUN --security=insecure is not allowed: grant the security.insecure entitlement (--allow security.insecure) to run this step privileged");
  }
  if (inst.devices.length > 0) throw new Error(`RUN --device=${inst.devices[0]!.name}: CDI devices are not supported by tbuild`);
  // The platform is the stage's (FROM --platform, else the target), checked before this step
  // by checkRunPlatform (run-platform.ts): natively, else under QEMU user emulation.
}

const PROXY = /^(http_proxy|https_proxy|ftp_proxy|no_proxy|all_proxy)$/i;

/** The environment as the cache key sees it: proxy settings count only when declared with ARG (as BuildKit). */
function keyEnv(env: readonly string[], declared: readonly { name: string }[]): string[] {
  return env.filter((e) => {
    const name = e.slice(0, e.indexOf("="));
    return !PROXY.test(name) || declared.some((d) => d.name === name);
  });
}
