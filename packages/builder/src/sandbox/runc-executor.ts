// The OCI runtime executor, the way BuildKit's runc worker runs a step: a generated
// config.json in a per-step bundle, `runc run` in the foreground. runc itself runs inside
// `unshare --mount --pid` so that (1) the overlay rootfs and the RUN --mount stacks we mount
// for it live in a private mount namespace and (2) runc and the container are members of a
// pid namespace whose init (our setup shell) takes them all down when the step ends, is
// aborted or tbuild dies; runc's own container would survive `runc run` being killed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { abortError, SandboxError } from "./errors.js";
import { defaultEtcHosts, defaultResolvConf } from "./etc-files.js";
import { renderFstab, type FstabEntry } from "./fstab.js";
import { coreTools, requireTool, type CoreTools } from "./host-tools.js";
import { prepareRun, type PreparedRun } from "./prepare-run.js";
import { sweepLeftovers } from "./leftovers.js";
import { CGROUP_PARENT, removeContainerCgroups } from "./runc-cgroups.js";
import { runcSpec, runcSpecJSON, type OciMount } from "./runc-spec.js";
import { makeStepDir, removeStepDir, runtimeRoot } from "./runtime-dir.js";
import { runSandboxProcess } from "./sandbox-process.js";
import { layersMount, rootfsMount, writeEtcFiles } from "./sandbox-mounts.js";
import type { Executor, RunSpec } from "./types.js";

const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Positional parameters: $1 bundle (step dir), $2 runc state root, $3 container id. */
function runcScript(mount: string, runc: string): string {
  return [
    `( read -r _; kill -KILL -1 ) <&4 >&- 2>&- 3>&- &`,
    `cd "$1" || exit 125`,
    `if [ -s fstab ]; then ${q(mount)} -a -c -T fstab || exit 125; fi`,
    `echo started >&4`,
    `${q(runc)} --root "$2" --log "$1/runc.log" --log-format json run --no-new-keyring --bundle "$1" "$3" 2>&3 3>&- 4>&-`,
  ].join("\n");
}

let counter = 0;

/** runc's own error messages from its JSON log (level error or fatal). */
function runcErrors(logFile: string): string[] {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if ((rec.level === "error" || rec.level === "fatal") && rec.msg) out.push(rec.msg);
    } catch {
      out.push(line);
    }
  }
  return out;
}

export class RuncExecutor implements Executor {
  readonly name = "runc" as const;
  private readonly script: string;
  private readonly stateRoot: string;

  private constructor(private readonly tools: CoreTools & { runc: string }) {
    this.script = runcScript(tools.mount, tools.runc);
    this.stateRoot = `${runtimeRoot()}/runc`;
    mkdirSync(this.stateRoot, { recursive: true, mode: 0o700 });
  }

  /** Finds runc and the util-linux tools; throws a SandboxError naming what is missing. */
  static create(): RuncExecutor {
    const ex = new RuncExecutor({ ...coreTools(), runc: requireTool("runc", "runc") });
    void sweepLeftovers(runtimeRoot()).catch(() => {});
    return ex;
  }

  async run(spec: RunSpec, signal?: AbortSignal): Promise<{ exitCode: number }> {
    if (signal?.aborted) throw abortError(signal);
    const prep = await prepareRun(spec);
    let stepDir: string | undefined;
    const id = `tb-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
    let clean = false;
    try {
      stepDir = makeStepDir();
      this.writeBundle(spec, prep, stepDir, id);
      const res = await runSandboxProcess({
        argv: [
          this.tools.unshare, "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private", "--",
          this.tools.sh, "-c", this.script, "sh", stepDir, this.stateRoot, id,
        ],
        env: { PATH: TOOL_PATH },
        stdout: spec.stdout,
        stderr: spec.stderr,
        signal,
      });
      if (res.aborted && signal) throw abortError(signal);
      if (!res.started) {
        throw new SandboxError("SETUP", `the sandbox could not be set up${res.setupLog ? `: ${res.setupLog.replace(/\s*\n\s*/g, "; ")}` : ` (exit status ${res.code ?? res.signal})`}`);
      }
      if (res.code === null) throw new SandboxError("SETUP", `the sandbox was killed by ${res.signal}`);
      const errors = runcErrors(`${stepDir}/runc.log`);
      if (errors.length > 0) {
        const msg = errors[errors.length - 1]!.replace(/^runc run failed: /, "");
        // "unable to start container process: exec: "x": executable file not found in $PATH",
        // "… exec /x: exec format error": the command could not be started.
        const exec = /^unable to start container process: exec[: ]/.test(msg);
        throw new SandboxError(exec ? "EXEC" : "SETUP", exec ? msg.replace(/^unable to start container process: /, "") : `runc could not run the step: ${msg}`);
      }
      // runc's init reports a failed execve(2) of the resolved command (a corrupt ELF
      // file, say) on the container's stderr and exits 1, after the container started.
      const last = res.stderrTail.trimEnd().split("\n").pop() ?? "";
      if (res.code === 1 && /^exec \/\S*: [a-z ]+$/.test(last)) throw new SandboxError("EXEC", last);
      clean = true;
      return { exitCode: res.code };
    } finally {
      if (!clean) {
        // runc did not get to clean up after itself (abort, kill, failure).
        await rm(`${this.stateRoot}/${id}`, { recursive: true, force: true }).catch(() => {});
        await removeContainerCgroups(id).catch(() => {});
      }
      if (stepDir !== undefined) removeStepDir(stepDir);
      await prep.stubs.removeUnchanged();
    }
  }

  /** Writes config.json, the fstab of the mounts runc cannot make itself, and the etc files. */
  private writeBundle(spec: RunSpec, prep: PreparedRun, stepDir: string, id: string): void {
    const fstab: FstabEntry[] = [];
    let rootfs: string;
    if (spec.rootfs.kind === "dir") rootfs = spec.rootfs.path;
    else {
      rootfs = `${stepDir}/rootfs`;
      mkdirSync(rootfs);
      fstab.push(rootfsMount(spec.rootfs, rootfs, stepDir));
    }
    const etc = writeEtcFiles(stepDir, {
      hosts: spec.etcHosts ?? defaultEtcHosts(prep.hostname),
      resolvConf: spec.resolvConf ?? defaultResolvConf(spec.network),
      hostname: prep.hostname + "\n",
    });
    const mounts: OciMount[] = [
      { destination: prep.etc.hosts, type: "bind", source: etc.hosts, options: ["rbind", "ro"] },
      { destination: prep.etc.resolvConf, type: "bind", source: etc.resolvConf, options: ["rbind", "ro"] },
      { destination: prep.etc.hostname, type: "bind", source: etc.hostname, options: ["rbind", "ro"] },
    ];
    prep.mounts.forEach((m, i) => {
      const s = m.spec;
      if (s.type === "bind") {
        mounts.push({ destination: m.target, type: "bind", source: s.source, options: ["rbind", s.readonly ? "ro" : "rw"] });
      } else if (s.type === "tmpfs") {
        const opts = ["nosuid", `mode=${(s.mode ?? 0o1777).toString(8).padStart(4, "0")}`];
        if (s.size !== undefined) opts.push(`size=${Math.max(4096, Math.floor(s.size))}`);
        mounts.push({ destination: m.target, type: "tmpfs", source: "tmpfs", options: opts });
      } else {
        const at = `${stepDir}/m${i}/mnt`;
        mkdirSync(at, { recursive: true });
        fstab.push(layersMount(s.lowers, s.readonly, at, stepDir, i));
        mounts.push({ destination: m.target, type: "bind", source: at, options: ["rbind", s.readonly ? "ro" : "rw"] });
      }
    });
    if (fstab.length > 0) writeFileSync(`${stepDir}/fstab`, renderFstab(fstab));
    const config = runcSpec({
      rootfs,
      args: spec.args,
      env: prep.env,
      cwd: prep.cwd,
      uid: spec.user.uid,
      gid: spec.user.gid,
      additionalGids: spec.user.additionalGids,
      hostname: prep.hostname,
      newNetwork: spec.network === "none",
      mounts,
      cgroupsPath: `/${CGROUP_PARENT}/${id}`,
      ...(spec.limits ? { limits: spec.limits } : {}),
      ...(spec.privileged ? { privileged: true } : {}),
    });
    writeFileSync(`${stepDir}/config.json`, runcSpecJSON(config));
  }
}

