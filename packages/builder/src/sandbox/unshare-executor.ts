// The default executor: one exec of tbuild-enter (native/tbuild-enter.c) per step. It
// makes the namespaces (pid, mount, ipc, uts, and net for --network=none), mounts the
// overlay rootfs, /proc with Docker's masked and read-only paths, /sys read-only, a /dev
// with only the default devices, the etc files and the RUN mounts; pivots into the rootfs
// and detaches the host's root; then drops to Docker's capability set, loads the seccomp
// filter (seccomp-profile.ts), takes the step's user and execs the command as pid 1 of
// its pid namespace. Everything here only writes the helper's configuration.
import { mkdirSync, writeFileSync } from "node:fs";
import { inUserNamespace } from "@tbuild/oci";
import { heldCaps, capMask, DOCKER_DEFAULT_CAPS } from "./capabilities.js";
import { DEFAULT_DEVICES, DEV_LINKS, devMounts } from "./dev-template.js";
import { encodeEnterConfig, enterMount, type EnterMount } from "./enter-config.js";
import { enterHelper } from "./enter-helper.js";
import { abortError, SandboxError } from "./errors.js";
import { defaultEtcHosts, defaultResolvConf } from "./etc-files.js";
import { needsCgroup, stepRlimits } from "./limits.js";
import { prepareRun, type PreparedRun } from "./prepare-run.js";
import { hostMasks } from "./proc-masks.js";
import { sweepLeftovers } from "./leftovers.js";
import { makeStepDir, removeStepDir, runtimeRoot } from "./runtime-dir.js";
import { runSandboxProcess } from "./sandbox-process.js";
import { seccompProgram } from "./seccomp-program.js";
import { layersMount, rootfsMount, simpleMount, writeEtcFiles } from "./sandbox-mounts.js";
import { createStepCgroup, type StepCgroup } from "./step-cgroup.js";
import type { Executor, RunSpec } from "./types.js";

const NODEV = 0x4;

/** The kernel's own mounts of a privileged step: /proc and /sys as they come, the host's /dev. */
function privilegedMounts(): EnterMount[] {
  return [
    { source: "proc", target: "/proc", fstype: "proc", flags: 0x2 | 0x4 | 0x8, data: "", create: "" },
    { source: "sysfs", target: "/sys", fstype: "sysfs", flags: 0x2 | 0x4 | 0x8, data: "", create: "" },
    { source: "/dev", target: "/dev", fstype: "", flags: 0x1000 | 0x4000, data: "", create: "" },
  ];
}

/** The kernel's own mounts of the sandbox, as container paths (after /dev). */
function systemMounts(rootDir: string): EnterMount[] {
  const masks = hostMasks();
  return [
    { source: "proc", target: "/proc", fstype: "proc", flags: 0x2 | 0x4 | 0x8, data: "", create: "" },
    // A user namespace may not mount sysfs unless it owns the network namespace: bind the host's, read-only.
    inUserNamespace()
      ? { source: "/sys", target: "/sys", fstype: "", flags: 0x1000 | 0x4000 | 0x1 | 0x2 | 0x4 | 0x8, data: "", create: "" }
      : { source: "sysfs", target: "/sys", fstype: "sysfs", flags: 0x1 | 0x2 | 0x4 | 0x8, data: "", create: "" },
    ...devMounts().map((e) => enterMount(e, e.target === "/dev" ? "" : "dir")),
    ...masks.masked.map((m): EnterMount => m.isDir
      ? { source: "tmpfs", target: m.path, fstype: "tmpfs", flags: 0x1 | 0x2 | 0x4 | 0x8, data: "size=4k", create: "" }
      // The sandbox's own /dev/null (a per-step node), never the host's.
      : { source: `${rootDir}/dev/null`, target: m.path, fstype: "", flags: 0x1000, data: "", create: "" }),
    ...masks.readonly.map((m): EnterMount => ({ source: `${rootDir}${m.path}`, target: m.path, fstype: "", flags: 0x1000 | 0x1 | 0x2 | 0x4 | 0x8, data: "", create: "" })),
  ];
}

let counter = 0;

export class UnshareExecutor implements Executor {
  readonly name = "unshare" as const;

  private constructor(private readonly helper: string, private readonly seccompFile: string) {}

  /** Finds tbuild-enter; throws a SandboxError saying how to build it when it is missing. */
  static create(): UnshareExecutor {
    const helper = enterHelper();
    const seccompFile = seccompProgram(helper, DOCKER_DEFAULT_CAPS);
    void sweepLeftovers(runtimeRoot()).catch(() => {});
    return new UnshareExecutor(helper, seccompFile);
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<{ exitCode: number }> {
    if (signal?.aborted) throw abortError(signal);
    const prep = await prepareRun(spec);
    let stepDir: string | undefined;
    let cgroup: StepCgroup | undefined;
    try {
      stepDir = makeStepDir();
      if (needsCgroup(spec.limits) && inUserNamespace()) {
        throw new SandboxError("UNAVAILABLE", "--memory and --pids-limit need cgroups, which rootless tbuild cannot create; run as root for these limits");
      }
      if (needsCgroup(spec.limits)) cgroup = createStepCgroup(`tb-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`, spec.limits!);
      writeFileSync(`${stepDir}/enter.conf`, this.config(spec, prep, stepDir, cgroup?.procs ?? []));
      const res = await runSandboxProcess({
        argv: [this.helper, `${stepDir}/enter.conf`],
        env: {},
        stdout: spec.stdout,
        stderr: spec.stderr,
        signal,
      });
      if (res.aborted && signal) throw abortError(signal);
      if (!res.started) {
        throw new SandboxError("SETUP", `the sandbox could not be set up${res.setupLog ? `: ${res.setupLog.replace(/^tbuild-enter: /gm, "").replace(/\s*\n\s*/g, "; ")}` : ` (exit status ${res.code ?? res.signal})`}`);
      }
      if (res.execError !== undefined) throw new SandboxError("EXEC", `exec: "${spec.args[0]}": ${execMessage(res.execError)}`);
      if (res.code === null) throw new SandboxError("SETUP", `the sandbox was killed by ${res.signal}`);
      return { exitCode: res.code };
    } finally {
      await cgroup?.remove();
      if (stepDir !== undefined) removeStepDir(stepDir);
      await prep.stubs.removeUnchanged();
    }
  }

  /** The helper's configuration for this step. */
  private config(spec: RunSpec, prep: PreparedRun, stepDir: string, cgroupProcs: string[]): Buffer {
    const rootDir = `${stepDir}/root`;
    mkdirSync(rootDir);
    const etcHost = writeEtcFiles(stepDir, {
      hosts: spec.etcHosts ?? defaultEtcHosts(prep.hostname),
      resolvConf: spec.resolvConf ?? defaultResolvConf(spec.network),
      hostname: prep.hostname + "\n",
    });
    const privileged = spec.privileged === true;
    const root = enterMount({ ...rootfsMount(spec.rootfs, "/", stepDir) });
    if (!privileged) root.flags |= NODEV;
    const etcBind = (source: string, target: string): EnterMount => ({ source, target, fstype: "", flags: 0x1000 | 0x1 | 0x2 | 0x4, data: "", create: "" });
    const mounts: EnterMount[] = [
      root,
      ...(privileged ? privilegedMounts() : systemMounts(rootDir)),
      etcBind(etcHost.hosts, prep.etc.hosts),
      etcBind(etcHost.resolvConf, prep.etc.resolvConf),
      etcBind(etcHost.hostname, prep.etc.hostname),
    ];
    prep.mounts.forEach((m, i) => {
      const entry = m.spec.type === "layers" ? layersMount(m.spec.lowers, m.spec.readonly, m.target, stepDir, i) : simpleMount(m, m.target);
      const em = enterMount(entry, m.inDev || m.nested ? (m.sourceIsFile ? "file" : "dir") : "");
      // What a step writes into its mounts is no way to a usable device node either.
      if (!privileged) em.flags |= NODEV;
      mounts.push(em);
    });
    const { uid, gid, additionalGids } = spec.user;
    return encodeEnterConfig({
      setupDir: stepDir,
      rootDir,
      hostname: prep.hostname,
      newNetwork: spec.network === "none",
      uid,
      gid,
      groups: additionalGids,
      caps: capMask(privileged ? heldCaps() : DOCKER_DEFAULT_CAPS),
      ...(privileged ? {} : { seccomp: this.seccompFile }),
      cgroupProcs,
      rlimits: stepRlimits(spec.limits),
      mounts,
      devices: privileged ? [] : DEFAULT_DEVICES,
      links: privileged ? [] : DEV_LINKS,
      cwd: prep.cwd,
      env: prep.env,
      args: spec.args,
    });
  }
}

function execMessage(errno: number): string {
  if (errno === 2) return "executable file not found in $PATH";
  if (errno === 13) return "permission denied";
  if (errno === 8) return "exec format error";
  return `exec failed (errno ${errno})`;
}
