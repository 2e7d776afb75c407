// Choosing an executor. "auto" takes the util-linux one: it passes the same isolation and
// behaviour tests as runc and costs half as much per step here (one step: ~100 ms vs
// ~200 ms under load; runc starts Go twice), which dominates builds with many RUN steps.
// runc is used when asked for (--executor runc, TBUILD_EXECUTOR=runc) and when the
// util-linux tools are missing. TBUILD_EXECUTOR=runc|unshare|auto overrides the argument.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { inUserNamespace } from "@tbuild/oci";
import { SandboxError } from "./errors.js";
import { findTool } from "./host-tools.js";
import { removeContainerCgroups, CGROUP_PARENT } from "./runc-cgroups.js";
import { RuncExecutor } from "./runc-executor.js";
import { runcSpec, runcSpecJSON } from "./runc-spec.js";
import { runtimeRoot } from "./runtime-dir.js";
import type { Executor } from "./types.js";
import { UnshareExecutor } from "./unshare-executor.js";

export type ExecutorKind = "auto" | "runc" | "unshare";

let runcProbe: Promise<string | undefined> | undefined;

/**
 * Runs a container whose command does not exist in an empty rootfs: if runc gets as far
 * as the exec (namespaces, cgroups, mounts, pivot_root all done), it works here. Resolves
 * with undefined when it works, else with the reason.
 */
function probeRunc(runc: string): Promise<string | undefined> {
  runcProbe ??= (async () => {
    const dir = mkdtempSync(`${runtimeRoot()}/probe-${process.pid}-`);
    const id = `tb-${process.pid}-probe-${Date.now().toString(36)}`;
    try {
      mkdirSync(`${dir}/rootfs`);
      const spec = runcSpec({
        rootfs: `${dir}/rootfs`, args: ["/tbuild-probe"], env: ["PATH=/"], cwd: "/", uid: 0, gid: 0, additionalGids: [],
        hostname: "probe", newNetwork: false, mounts: [], cgroupsPath: `/${CGROUP_PARENT}/${id}`,
      });
      writeFileSync(`${dir}/config.json`, runcSpecJSON(spec));
      await new Promise<void>((resolve) => {
        execFile(runc, ["--root", `${dir}/state`, "--log", `${dir}/log`, "--log-format", "json", "run", "--no-new-keyring", "--bundle", dir, id], { timeout: 20_000 }, () => resolve());
      });
      const log = await readFile(`${dir}/log`, "utf8").catch(() => "");
      if (/tbuild-probe.*(no such file|not found)/.test(log)) return undefined;
      const msgs = log.split("\n").filter(Boolean).map((l) => {
        try {
          return (JSON.parse(l) as { msg?: string }).msg ?? l;
        } catch {
          return l;
        }
      });
      return msgs.pop() ?? "runc produced no output";
    } finally {
      await removeContainerCgroups(id).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  })();
  return runcProbe;
}

/** RUN steps need root: of the host, or of a user namespace (rootless mode). */
function checkPrivileges(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new SandboxError(
      "UNAVAILABLE",
      "running RUN steps needs root, or a user namespace in which this process is root: the tbuild command enters one by itself when run by another user; a library caller can start its process under `unshare --map-auto --map-root-user --mount`",
    );
  }
}

const chosen = new Map<string, Promise<Executor>>();

/**
 * The executor to run RUN steps with. "auto" (the default) picks the util-linux executor,
 * or runc (after a probe run) when util-linux's tools are missing; the environment variable
 * TBUILD_EXECUTOR overrides the argument. Rejects with a SandboxError when the requested
 * executor cannot work on this host.
 */
export function selectExecutor(kind: ExecutorKind = "auto"): Promise<Executor> {
  const env = process.env.TBUILD_EXECUTOR;
  const want: ExecutorKind = env === "runc" || env === "unshare" || env === "auto" ? env : kind;
  let hit = chosen.get(want);
  if (!hit) {
    hit = (async (): Promise<Executor> => {
      checkPrivileges();
      if (want === "unshare") return UnshareExecutor.create();
      const runc = findTool("runc");
      if (want === "runc") {
        if (inUserNamespace()) throw new SandboxError("UNAVAILABLE", "the runc executor does not run rootless here; use the default executor");
        if (runc === undefined) throw new SandboxError("UNAVAILABLE", `the runc executor was requested but runc is not installed; install the Debian package "runc" or use the unshare executor`);
        const why = await probeRunc(runc);
        if (why !== undefined) throw new SandboxError("UNAVAILABLE", `runc does not work on this host: ${why}`);
        return RuncExecutor.create();
      }
      try {
        return UnshareExecutor.create();
      } catch (e) {
        if (runc !== undefined && (await probeRunc(runc)) === undefined) return RuncExecutor.create();
        throw e;
      }
    })();
    hit.catch(() => chosen.delete(want));
    chosen.set(want, hit);
  }
  return hit;
}
