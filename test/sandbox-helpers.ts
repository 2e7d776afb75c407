// Shared fixtures of the sandbox tests: a busybox rootfs snapshot, running one step end to
// end (prepare → run → diff), and reading a diff tree back for comparison.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Executor, MountSpec, RunSpec } from "../packages/builder/src/sandbox/index.js";
import type { Snapshotter } from "../packages/builder/src/snapshot/index.js";

export const IN_CI = process.env.CI === "true";

/** Why the sandbox tests cannot run here, or undefined. In CI they must run. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the sandbox tests need root";
  try {
    execFileSync("busybox", ["true"]);
  } catch {
    return "busybox-static is not installed";
  }
  return undefined;
}

/** A fresh temp dir under /dev/shm. */
export function tempDir(prefix: string): string {
  return mkdtempSync(`/dev/shm/tbuild-${prefix}-`);
}

/**
 * A snapshot dir with Debian's static busybox, its applets as symlinks, /etc/passwd with
 * root and nobody, /etc/group, /tmp and /root; no /proc, /dev, /sys or /etc/hosts (the
 * executor has to stub them).
 */
export function makeBusyboxSnapshot(dir: string): string {
  const bb = execFileSync("sh", ["-c", "command -v busybox"]).toString().trim();
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "tmp", "home"]) mkdirSync(`${dir}/${d}`, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(`${dir}/tmp`, 0o1777);
  chmodSync(`${dir}/root`, 0o700);
  copyFileSync(bb, `${dir}/bin/busybox`);
  chmodSync(`${dir}/bin/busybox`, 0o755);
  for (const p of execFileSync(bb, ["--list-full"]).toString().split("\n").filter(Boolean)) {
    try {
      symlinkSync("/bin/busybox", `${dir}/${p}`);
    } catch {
      // busybox itself, or listed twice
    }
  }
  writeFileSync(`${dir}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(`${dir}/etc/group`, "root:x:0:\nusers:x:100:\nnogroup:x:65534:\n");
  return dir;
}

export interface StepOptions {
  env?: string[];
  cwd?: string;
  user?: RunSpec["user"];
  network?: RunSpec["network"];
  mounts?: MountSpec[];
  hostname?: string;
  signal?: AbortSignal;
  commitCwd?: boolean;
  etcHosts?: string;
  resolvConf?: string;
  limits?: RunSpec["limits"];
}

export interface StepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The diff dir (inside scratch). */
  diff: string;
  scratch: string;
}

/** Runs one RUN step end to end on `parents` and returns its output and diff dir. */
export async function runStep(executor: Executor, snapshotter: Snapshotter, parents: string[], args: string[], o: StepOptions = {}): Promise<StepResult> {
  const scratch = tempDir("scratch");
  const rootfs = await snapshotter.prepare(parents, scratch);
  let stdout = "";
  let stderr = "";
  try {
    const { exitCode } = await executor.run({
      rootfs,
      args,
      env: o.env ?? ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: o.cwd ?? "/",
      commitCwd: o.commitCwd,
      user: o.user ?? { uid: 0, gid: 0, additionalGids: [] },
      hostname: o.hostname,
      network: o.network ?? "none",
      mounts: o.mounts ?? [],
      etcHosts: o.etcHosts,
      resolvConf: o.resolvConf,
      limits: o.limits,
      stdout: (b) => (stdout += b.toString()),
      stderr: (b) => (stderr += b.toString()),
    }, o.signal);
    const diff = await snapshotter.diff(rootfs, parents);
    return { exitCode, stdout, stderr, diff, scratch };
  } catch (e) {
    await snapshotter.release(rootfs).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
    throw e;
  }
}

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  content?: string;
  link?: string;
  rdev?: number;
  opaque?: boolean;
  nlink?: number;
}

/** Reads a diff dir as path → entry (content hashed, opaque markers read with getfattr). */
export function readTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const opaque = new Set<string>();
  const dump = (() => {
    try {
      return execFileSync("getfattr", ["-R", "-P", "-h", "--absolute-names", "-m", "^(trusted|user)\\.overlay\\.opaque$", "-d", "."], { cwd: root, stdio: ["ignore", "pipe", "ignore"] }).toString();
    } catch (e) {
      return String((e as { stdout?: Buffer }).stdout ?? "");
    }
  })();
  for (const line of dump.split("\n")) if (line.startsWith("# file: ")) opaque.add(line.slice(8).replace(/^\.\/?/, "/"));
  const visit = (rel: string) => {
    for (const name of readdirSync(root + rel).sort()) {
      const p = `${rel}/${name}`;
      const st = lstatSync(root + p);
      const e: TreeEntry = { type: "?", mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isDirectory()) {
        e.type = "dir";
        if (opaque.has(p)) e.opaque = true;
      } else if (st.isFile()) {
        e.type = "file";
        e.size = st.size;
        e.nlink = st.nlink;
        e.content = createHash("sha256").update(readFileSync(root + p)).digest("hex").slice(0, 16);
      } else if (st.isSymbolicLink()) {
        e.type = "symlink";
        e.link = readlinkSync(root + p);
      } else if (st.isCharacterDevice()) {
        e.type = st.rdev === 0 ? "whiteout" : "char";
        e.rdev = st.rdev;
        if (st.rdev === 0) e.mode = 0;
      } else e.type = st.isFIFO() ? "fifo" : st.isSocket() ? "socket" : "block";
      out.set(p, e);
      if (st.isDirectory()) visit(p);
    }
  };
  visit("");
  return out;
}

/** Host mountinfo lines that mention `needle`. */
export function hostMountsMentioning(needle: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(needle));
}

/** The escape probe's "key=value" lines as a map (repeated keys: the values joined by newlines). */
export function findings(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i < 0) continue;
    const k = line.slice(0, i);
    out.set(k, out.has(k) ? `${out.get(k)}\n${line.slice(i + 1)}` : line.slice(i + 1));
  }
  return out;
}
