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
import type { FstabEntry } from "./fstab.js";
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

/** A mount described with mount(8)'s option words (enter-config.ts turns them into flags). */
function m(source: string, target: string, fstype: string, options: string[], create: EnterMount["create"] = ""): EnterMount {
  return enterMount({ source, target, fstype, options }, create);
}

const NOSUID_NODEV_NOEXEC = ["nosuid", "nodev", "noexec"];

/** The kernel's own mounts of a privileged step: /proc and /sys as they come, the host's /dev. */
function privilegedMounts(): EnterMount[] {
  return [
    m("proc", "/proc", "proc", NOSUID_NODEV_NOEXEC),
    m("sysfs", "/sys", "sysfs", NOSUID_NODEV_NOEXEC),
    m("/dev", "/dev", "none", ["rbind"]),
  ];
}

/** The kernel's own mounts of the sandbox, as container paths (after /dev). */
function systemMounts(rootDir: string): EnterMount[] {
  const masks = hostMasks();
  return [
    m("proc", "/proc", "proc", NOSUID_NODEV_NOEXEC),
    // A user namespace may not mount sysfs unless it owns the network namespace: bind the host's, read-only.
    inUserNamespace() ? m("/sys", "/sys", "none", ["rbind", "ro", ...NOSUID_NODEV_NOEXEC]) : m("sysfs", "/sys", "sysfs", ["ro", ...NOSUID_NODEV_NOEXEC]),
    ...devMounts().map((e) => enterMount(e, e.target === "/dev" ? "" : "dir")),
    ...masks.masked.map((k) => k.isDir
      ? m("tmpfs", k.path, "tmpfs", ["ro", ...NOSUID_NODEV_NOEXEC, "size=4k"])
      // The sandbox's own /dev/null (a per-step node), never the host's.
      : m(`${rootDir}/dev/null`, k.path, "none", ["bind"])),
    ...masks.readonly.map((k) => m(`${rootDir}${k.path}`, k.path, "none", ["bind", "ro", ...NOSUID_NODEV_NOEXEC])),
  ];
}

const readonlyIf = (ro: boolean, e: FstabEntry): FstabEntry => (ro ? { ...e, options: [...e.options, "ro"] } : e);

let counter = 0;

/** How a container's process differs from a RUN step's (see enter-config.ts). */
export interface ContainerProcessOptions {
  /** The command gets the helper's fd 0 (else /dev/null). */
  stdin?: boolean;
  /** A terminal, relayed by the helper between its fd 0/1 and the command. */
  tty?: boolean;
  /** A network namespace to join (a bind-mounted nsfs file). */
  netns?: string;
}

/** A process of the helper ready to start. */
export interface PreparedProcess {
  argv: string[];
  /** The host file bound read-only on the sandbox's /etc/hosts (rewrite it in place to change it). */
  hostsFile: string;
  /** Removes the step dir, cgroup and mount stubs; call after the helper ended. */
  release(): Promise<void>;
}

/** A command run in a running sandbox (exec). */
export interface ExecSpec {
  pid: number;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  stdin?: boolean;
  tty?: boolean;
}

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
    const proc = await this.prepareProcess(spec);
    try {
      const res = await runSandboxProcess({
        argv: proc.argv,
        env: {},
        stdout: spec.stdout,
        stderr: spec.stderr,
        signal,
      });
      if (res.aborted && signal) throw abortError(signal);
      if (!res.started) throw setupFailed(res.setupLog, res.code ?? res.signal);
      if (res.execError !== undefined) throw execFailed(spec.args[0]!, res.execError);
      if (res.code === null) throw new SandboxError("SETUP", `the sandbox was killed by ${res.signal}`);
      return { exitCode: res.code };
    } finally {
      await proc.release();
    }
  }

  /**
   * Everything a run needs short of starting it: the mounts' stubs, the step dir, the
   * cgroup and the helper's configuration. Containers (@tbuild/runtime) start `argv`
   * themselves, with their own stdio (fds 0–4 as described in sandbox-process.ts), and call
   * `release()` once the helper has ended.
   */
  async prepareProcess(spec: RunSpec, opts: ContainerProcessOptions = {}): Promise<PreparedProcess> {
    const prep = await prepareRun(spec);
    let stepDir: string | undefined;
    let cgroup: StepCgroup | undefined;
    const release = async () => {
      await cgroup?.remove();
      if (stepDir !== undefined) removeStepDir(stepDir);
      await prep.stubs.removeUnchanged();
    };
    try {
      stepDir = makeStepDir();
      if (needsCgroup(spec.limits) && inUserNamespace()) {
        throw new SandboxError("UNAVAILABLE", "--memory and --pids-limit need cgroups, which rootless tbuild cannot create; run as root for these limits");
      }
      if (needsCgroup(spec.limits)) cgroup = createStepCgroup(`tb-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`, spec.limits!);
      writeFileSync(`${stepDir}/enter.conf`, this.config(spec, prep, stepDir, cgroup?.procs ?? [], opts));
      return { argv: [this.helper, `${stepDir}/enter.conf`], hostsFile: `${stepDir}/hosts`, release };
    } catch (e) {
      await release();
      throw e;
    }
  }

  /**
   * `exec` into a running sandbox: the helper enters the namespaces of `pid` (the host pid of
   * its pid 1) and runs `args` with the same capabilities, seccomp filter and user rules as
   * the sandbox's own command. Nothing is mounted.
   */
  prepareExec(e: ExecSpec): PreparedProcess {
    const stepDir = makeStepDir();
    writeFileSync(`${stepDir}/enter.conf`, encodeEnterConfig({
      setupDir: stepDir,
      rootDir: stepDir,
      hostname: "",
      newNetwork: false,
      uid: e.user.uid,
      gid: e.user.gid,
      groups: e.user.additionalGids,
      caps: capMask(DOCKER_DEFAULT_CAPS),
      seccomp: this.seccompFile,
      cgroupProcs: [],
      rlimits: stepRlimits(undefined),
      mounts: [],
      devices: [],
      links: [],
      cwd: e.cwd,
      env: e.env,
      args: e.args,
      join: e.pid,
      ...(e.stdin ? { stdin: true } : {}),
      ...(e.tty ? { tty: true } : {}),
    }));
    return { argv: [this.helper, `${stepDir}/enter.conf`], hostsFile: "", release: async () => removeStepDir(stepDir) };
  }

  /** The helper's configuration for this step. */
  private config(spec: RunSpec, prep: PreparedRun, stepDir: string, cgroupProcs: string[], opts: ContainerProcessOptions = {}): Buffer {
    const rootDir = `${stepDir}/root`;
    mkdirSync(rootDir);
    const etcHost = writeEtcFiles(stepDir, {
      hosts: spec.etcHosts ?? defaultEtcHosts(prep.hostname),
      resolvConf: spec.resolvConf ?? defaultResolvConf(spec.network),
      hostname: prep.hostname + "\n",
    });
    const privileged = spec.privileged === true;
    // The rootfs and every mount a step writes to are nodev: a node the step makes cannot be opened.
    const nodev = (e: FstabEntry): FstabEntry => (privileged ? e : { ...e, options: [...e.options, "nodev"] });
    const etcBind = (source: string, target: string): EnterMount => m(source, target, "none", ["bind", "ro", "nosuid", "nodev"]);
    const mounts: EnterMount[] = [
      enterMount(nodev(readonlyIf(spec.readonlyRootfs === true, rootfsMount(spec.rootfs, "/", stepDir)))),
      ...(privileged ? privilegedMounts() : systemMounts(rootDir)),
      etcBind(etcHost.hosts, prep.etc.hosts),
      etcBind(etcHost.resolvConf, prep.etc.resolvConf),
      etcBind(etcHost.hostname, prep.etc.hostname),
    ];
    prep.mounts.forEach((r, i) => {
      const entry = r.spec.type === "layers" ? layersMount(r.spec.lowers, r.spec.readonly, r.target, stepDir, i) : simpleMount(r, r.target);
      mounts.push(enterMount(nodev(entry), r.inDev || r.nested ? (r.sourceIsFile ? "file" : "dir") : ""));
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
      ...(opts.stdin ? { stdin: true } : {}),
      ...(opts.tty ? { tty: true } : {}),
      ...(opts.netns ? { netns: opts.netns } : {}),
    });
  }
}

/** The error of a helper that ended before the command started. */
export function setupFailed(setupLog: string, status: number | string | null): SandboxError {
  return new SandboxError("SETUP", `the sandbox could not be set up${setupLog ? `: ${setupLog.replace(/^tbuild-enter: /gm, "").replace(/\s*\n\s*/g, "; ")}` : ` (exit status ${status})`}`);
}

/** The error of a command the helper could not exec. */
export function execFailed(command: string, errno: number): SandboxError {
  return new SandboxError("EXEC", `exec: "${command}": ${execMessage(errno)}`);
}

function execMessage(errno: number): string {
  if (errno === 2) return "executable file not found in $PATH";
  if (errno === 13) return "permission denied";
  if (errno === 8) return "exec format error";
  return `exec failed (errno ${errno})`;
}
