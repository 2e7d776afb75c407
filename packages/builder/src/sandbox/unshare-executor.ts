// The zero-install executor: util-linux's unshare, mount, pivot_root, umount and setpriv
// driven by a small /bin/sh script (see unshare-script.ts). All mounts live in the step's
// private mount namespace and vanish with it; nothing is ever mounted in the host's.
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { setprivCapList } from "./capabilities.js";
import { devMounts, devTemplate, devUpperDirs } from "./dev-template.js";
import { shellSafeEnv, envRecord } from "./env-passing.js";
import { abortError, SandboxError } from "./errors.js";
import { defaultEtcHosts, defaultResolvConf } from "./etc-files.js";
import { renderFstab, type FstabEntry } from "./fstab.js";
import { coreTools, findTool, requireTool, type CoreTools } from "./host-tools.js";
import { prepareRun, type PreparedRun } from "./prepare-run.js";
import { hostMasks } from "./proc-masks.js";
import { sweepLeftovers } from "./leftovers.js";
import { makeStepDir, removeStepDir, runtimeRoot } from "./runtime-dir.js";
import { runSandboxProcess } from "./sandbox-process.js";
import { layersMount, rootfsMount, simpleMount, writeEtcFiles } from "./sandbox-mounts.js";
import { stageMounts, stageRoot, type StageRoot } from "./stage-root.js";
import type { Executor, RunSpec } from "./types.js";
import { unshareSetupScript } from "./unshare-script.js";

interface Tools extends CoreTools {
  umount: string;
  pivotRoot: string;
  setpriv: string;
  ip?: string;
  env: string;
}

const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The kernel's own mounts of the sandbox below the rootfs at host path `r`. Masked files
 * get the sandbox's own /dev/null (not the host's, which a RUN could chmod through it).
 */
function systemMounts(r: string, dev: FstabEntry[]): FstabEntry[] {
  const masks = hostMasks();
  return [
    { source: "proc", target: `${r}/proc`, fstype: "proc", options: ["nosuid", "nodev", "noexec"] },
    { source: "sysfs", target: `${r}/sys`, fstype: "sysfs", options: ["ro", "nosuid", "nodev", "noexec"] },
    ...dev,
    ...masks.masked.map((m): FstabEntry => m.isDir
      ? { source: "tmpfs", target: r + m.path, fstype: "tmpfs", options: ["ro", "nosuid", "nodev", "noexec", "size=4k"] }
      : { source: `${r}/dev/null`, target: r + m.path, fstype: "none", options: ["bind"] }),
    ...masks.readonly.map((m): FstabEntry => ({ source: r + m.path, target: r + m.path, fstype: "none", options: ["bind", "ro"] })),
  ];
}

export class UnshareExecutor implements Executor {
  readonly name = "unshare" as const;
  private readonly script: string;

  private constructor(private readonly tools: Tools, private readonly stage: StageRoot, private readonly devTemplate: string) {
    this.script = unshareSetupScript(tools);
  }

  /** Finds the util-linux tools; throws a SandboxError naming what is missing. */
  static create(): UnshareExecutor {
    const tools: Tools = {
      ...coreTools(),
      umount: requireTool("umount", "mount"),
      pivotRoot: requireTool("pivot_root", "util-linux"),
      setpriv: requireTool("setpriv", "util-linux"),
      ip: findTool("ip"),
      env: requireTool("env", "coreutils"),
    };
    void sweepLeftovers(runtimeRoot()).catch(() => {});
    return new UnshareExecutor(tools, stageRoot(), devTemplate());
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<{ exitCode: number }> {
    if (signal?.aborted) throw abortError(signal);
    const prep = await prepareRun(spec);
    let stepDir: string | undefined;
    try {
      stepDir = makeStepDir();
      const argv = this.commandLine(spec, prep, stepDir);
      const res = await runSandboxProcess({
        argv,
        env: shellSafeEnv(prep.env) ? envRecord(prep.env) : { PATH: TOOL_PATH },
        stdout: spec.stdout,
        stderr: spec.stderr,
        signal,
      });
      if (res.aborted && signal) throw abortError(signal);
      if (!res.started) {
        throw new SandboxError("SETUP", `the sandbox could not be set up${res.setupLog ? `: ${res.setupLog.replace(/\s*\n\s*/g, "; ")}` : ` (exit status ${res.code ?? res.signal})`}`);
      }
      if (res.code === null) throw new SandboxError("SETUP", `the sandbox was killed by ${res.signal}`);
      this.checkHelperFailure(res.code, res.stderrTail, spec.args[0]!);
      return { exitCode: res.code };
    } finally {
      if (stepDir !== undefined) removeStepDir(stepDir);
      await prep.stubs.removeUnchanged();
    }
  }

  /** Writes the step dir's files and returns the argv of the host process. */
  private commandLine(spec: RunSpec, prep: PreparedRun, stepDir: string): string[] {
    const r = `${this.stage.path}/r`;
    const devDirs = devUpperDirs(stepDir);
    const etcHost = writeEtcFiles(stepDir, {
      hosts: spec.etcHosts ?? defaultEtcHosts(prep.hostname),
      resolvConf: spec.resolvConf ?? defaultResolvConf(spec.network),
      hostname: prep.hostname + "\n",
    });
    const entries: FstabEntry[] = [
      ...stageMounts(this.stage),
      rootfsMount(spec.rootfs, r, stepDir),
      ...systemMounts(r, devMounts(this.devTemplate, devDirs, `${r}/dev`)),
      { source: etcHost.hosts, target: r + prep.etc.hosts, fstype: "none", options: ["bind", "ro"] },
      { source: etcHost.resolvConf, target: r + prep.etc.resolvConf, fstype: "none", options: ["bind", "ro"] },
      { source: etcHost.hostname, target: r + prep.etc.hostname, fstype: "none", options: ["bind", "ro"] },
    ];
    prep.mounts.forEach((m, i) => {
      if (m.inDev && !m.nested) makeDevTarget(devDirs.upper, m.target, m.sourceIsFile);
      if (m.nested && m.sourceIsFile) {
        throw new SandboxError("SETUP", `the unshare executor cannot bind a file at ${m.target}, inside another mount of the step; use the runc executor or mount its directory`);
      }
      const target = r + m.target;
      const entry = m.spec.type === "layers" ? layersMount(m.spec.lowers, m.spec.readonly, target, stepDir, i) : simpleMount(m, target);
      // libmount creates a missing mountpoint directory inside the earlier mount.
      if (m.nested) entry.options.push("X-mount.mkdir");
      entries.push(entry);
    });
    writeFileSync(`${stepDir}/fstab`, renderFstab(entries));

    const { uid, gid, additionalGids } = spec.user;
    const chain = [
      ...(shellSafeEnv(prep.env) ? [] : [this.tools.env, "-i", "--", ...prep.env]),
      this.tools.setpriv,
      `--regid=${gid}`,
      ...(additionalGids.length > 0 ? [`--groups=${additionalGids.join(",")}`] : ["--clear-groups"]),
      `--bounding-set=${setprivCapList()}`,
      "--inh-caps=-all",
      this.tools.unshare,
      "--root=/r",
      `--wd=${prep.cwd}`,
      `--setuid=${uid}`,
      "--",
      ...spec.args,
    ];
    const none = spec.network === "none";
    return [
      this.tools.unshare, "--mount", "--pid", "--ipc", "--uts", ...(none ? ["--net"] : []),
      "--fork", "--kill-child", "--propagation", "private", "--",
      this.tools.sh, "-c", this.script, "sh", stepDir, prep.hostname, none ? "lo" : "-", this.stage.path,
      ...chain,
    ];
  }

  /**
   * setpriv and unshare (the last helpers) report their own failures on the command's
   * stderr; their exact messages with their exit codes mean the command never started.
   */
  private checkHelperFailure(code: number, tail: string, argv0: string): void {
    if (code !== 1 && code !== 126 && code !== 127) return;
    const last = tail.trimEnd().split("\n").pop() ?? "";
    const exec = `unshare: failed to execute ${argv0}: `;
    if (last.startsWith(exec)) {
      throw new SandboxError("EXEC", `exec: "${argv0}": ${last.slice(exec.length)}`);
    }
    if (/^(setpriv: |unshare: (cannot change root directory to|cannot chdir to|setuid failed|setgid failed|setgroups failed))/.test(last)) {
      throw new SandboxError("SETUP", `the sandbox could not start the command: ${last}`);
    }
  }
}

/** Creates a mount target inside the step's /dev (in the upper dir of its overlay). */
function makeDevTarget(devUpper: string, target: string, isFile: boolean): void {
  const host = devUpper + target.slice("/dev".length);
  const parent = host.slice(0, host.lastIndexOf("/"));
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  if (isFile) closeSync(openSync(host, "a", 0o644));
  else mkdirSync(host, { recursive: true, mode: 0o755 });
}
