// The boundary of a RUN step, probed as an attacker would, on every executor: a static
// probe (test/support/probes/escape-probe.c, built here with gcc -static) tries the chroot
// escape, inherited and magic-link file descriptors, kernel knobs, device nodes, user and
// mount namespaces, the calls Docker's seccomp profile refuses, tbuild's own process, and
// resource exhaustion. Each case asserts what the probe reached, not only that the step
// ended. Needs root, gcc and libc6-dev (static libc), busybox-static, runc.
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync, statSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { capMask } from "../packages/builder/src/sandbox/capabilities.js";
import { OverlaySnapshotter } from "../packages/builder/src/snapshot/index.js";
import { findings, IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir, type StepOptions } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];

const DOCKER_CAPS_HEX = capMask().toString(16).padStart(16, "0");

describe.skipIf(skip !== undefined).each(executors)("%s executor: containment", (_n, makeExecutor) => {
  let base: string;
  let probeLayer: string;
  let ex: Executor;
  const snap = new OverlaySnapshotter();
  const scratches: string[] = [];
  const probe = async (args: string[], o: StepOptions = {}) => {
    const r = await runStep(ex, snap, [probeLayer, base], ["/probe", ...args], o);
    scratches.push(r.scratch);
    return { ...r, f: findings(r.stdout) };
  };

  beforeAll(() => {
    base = makeBusyboxSnapshot(tempDir("base"));
    probeLayer = tempDir("probe");
    chmodSync(probeLayer, 0o755);
    execFileSync("gcc", ["-static", "-O1", "-o", `${probeLayer}/probe`, new URL("./support/probes/escape-probe.c", import.meta.url).pathname]);
    writeFileSync(`${probeLayer}/.tbuild-rootfs-marker`, "");
    ex = makeExecutor();
  });
  afterAll(() => {
    for (const d of [base, probeLayer, ...scratches]) rmSync(d, { recursive: true, force: true });
  });

  it("a chroot escape lands in its own rootfs, where no procfs knob is writable", async () => {
    const r = await probe(["chroot"]);
    expect(r.f.get("chroot1")).toBe("ok");
    expect(r.f.get("chroot2")).toBe("ok");
    // The escapee's / is the step's rootfs: the marker of the image, no host directories.
    expect(r.f.get("marker")).toBe("present");
    const names = r.f.get("root")!.split("\n");
    expect(names).toContain("probe");
    for (const host of ["work", "run", "var", "boot", "lib64", "srv"]) expect(names).not.toContain(host);
    expect(r.f.get("core_pattern")).not.toBe("WRITABLE");
  });

  it("holds no descriptor of the host: stdio only, and magic links stay inside", async () => {
    const r = await probe(["fds"]);
    const fdKeys = [...r.f.keys()].filter((k) => /^fd\d+$/.test(k)).sort();
    expect(fdKeys).toEqual(["fd0", "fd1", "fd2"]);
    // stdin is the sandbox's own /dev/null (1:3) or a pipe (runc), never the host's device file.
    const hostDevNull = statSync("/dev/null");
    const fd0 = r.f.get("fd0")!;
    const m = /^\/dev\/null dev=(\d+):(\d+) rdev=1:3$/.exec(fd0);
    if (m) expect(`${m[1]}:${m[2]}`).not.toBe(`${Math.floor(hostDevNull.dev / 256)}:${hostDevNull.dev % 256}`);
    else expect(fd0).toMatch(/^pipe:\[\d+\] /);
    // tbuild's ends of the output pipes (Node makes them socket pairs).
    for (const k of ["fd1", "fd2"]) expect(r.f.get(k)).toMatch(/^(pipe|socket):\[\d+\] /);
    expect(r.f.get("link /proc/self/root")).toBe("/");
    expect(r.f.get("link /proc/1/root")).toBe("/");
    expect(r.f.get("via-proc1")!.split("\n")).toContain("probe");
  });

  it("cannot write kernel knobs or read masked /proc files", async () => {
    const r = await probe(["knobs"]);
    for (const k of ["core_pattern", "sysrq", "sys_uevent", "modprobe"]) expect(r.f.get(k), k).not.toBe("WRITABLE");
    expect(Number(r.f.get("kcore_bytes"))).toBeLessThanOrEqual(0);
  });

  it("can mknod (CAP_MKNOD, as in Docker) but cannot open the node; the default devices work", async () => {
    const r = await probe(["devices"]);
    for (const p of ["/tmp/kmsg", "/dev/kmsg2", "/dev/shm/mem"]) {
      expect(r.f.get(`open ${p}`) ?? "not made", p).not.toBe("OPENED");
    }
    expect(r.f.get("mknod /tmp/kmsg")).toBe("ok");
    expect(r.f.get("open /dev/null")).toBe("ok");
  });

  it("refuses namespaces, mount, keyctl, bpf and perf_event_open; seccomp on, no_new_privs off, Docker's capabilities", async () => {
    const r = await probe(["syscalls"]);
    for (const k of ["unshare_user", "unshare_mnt", "clone_newuser", "mount", "keyctl", "bpf", "perf_event_open", "sethostname", "setns"]) {
      expect(r.f.get(k), k).toBe("Operation not permitted");
    }
    expect(r.f.get("clone3")).toBe("Function not implemented");
    expect(r.f.get("Seccomp")).toBe("2");
    expect(r.f.get("NoNewPrivs")).toBe("0");
    expect(r.f.get("CapBnd")).toBe(DOCKER_CAPS_HEX);
    expect(r.f.get("CapEff")).toBe(DOCKER_CAPS_HEX);
    expect(r.f.get("CapInh")).toBe("0000000000000000");
    const user = await probe(["syscalls"], { user: { uid: 65534, gid: 65534, additionalGids: [] } });
    expect(user.f.get("CapEff")).toBe("0000000000000000");
    expect(user.f.get("CapPrm")).toBe("0000000000000000");
    expect(user.f.get("CapBnd")).toBe(DOCKER_CAPS_HEX);
    expect(user.f.get("Seccomp")).toBe("2");
  });

  it("cannot signal, trace or read the environment of tbuild", async () => {
    process.env.TBUILD_TEST_SECRET = "s3cr3t-in-tbuild-env";
    try {
      const r = await probe(["outside", String(process.pid)]);
      expect(r.f.get("kill")).toBe("No such process");
      expect(r.f.get("ptrace")).toBe("No such process");
      expect(r.f.get("environ")).toBe("No such file or directory");
      const env = await runStep(ex, snap, [probeLayer, base], ["/bin/sh", "-c", "cat /proc/*/environ | tr '\\0' '\\n'"]);
      scratches.push(env.scratch);
      expect(env.stdout).not.toContain("s3cr3t-in-tbuild-env");
      expect(env.stdout).toContain("PATH=");
    } finally {
      delete process.env.TBUILD_TEST_SECRET;
    }
  });

  it("leaves no process behind: a daemon a step starts dies with it", async () => {
    const mark = `${Math.floor(Math.random() * 1e6) + 7_000_000}`;
    const r = await runStep(ex, snap, [probeLayer, base], ["/bin/sh", "-c", `(setsid sleep ${mark} </dev/null >/dev/null 2>&1 &); nohup sleep ${mark} >/dev/null 2>&1 & echo started`]);
    scratches.push(r.scratch);
    expect(r.stdout).toBe("started\n");
    const left = execFileSync("ps", ["-eo", "args"]).toString().split("\n").filter((l) => l.includes(`sleep ${mark}`));
    expect(left).toEqual([]);
  });

  it("a fork bomb under --pids-limit fails inside the step", async () => {
    const r = await probe(["forkbomb"], { limits: { pids: 40 } });
    expect(r.f.get("fork_error")).toBe("Resource temporarily unavailable");
    expect(Number(r.f.get("forks"))).toBeLessThan(40);
    expect(execFileSync("ps", ["-eo", "args"]).toString()).not.toContain("/probe forkbomb");
  });

  it("--memory stops a step that takes more", async () => {
    const small = await probe(["eat", "16"], { limits: { memory: 64 << 20, memorySwap: 64 << 20 } });
    expect(small.f.get("ate")).toBe("16");
    const big = await probe(["eat", "256"], { limits: { memory: 64 << 20, memorySwap: 64 << 20 } });
    expect(big.f.get("ate")).toBeUndefined();
    expect(big.exitCode).toBe(137);
  });

  it("--ulimit sets the step's rlimits; nofile defaults as in BuildKit", async () => {
    const r = await runStep(ex, snap, [probeLayer, base], ["/bin/sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"], {
      limits: { ulimits: [{ name: "nofile", soft: 100, hard: 200 }, { name: "core", soft: 0, hard: 0 }] },
    });
    scratches.push(r.scratch);
    expect(r.stdout).toBe("100\n200\n0\n");
    const d = await runStep(ex, snap, [probeLayer, base], ["/bin/sh", "-c", "ulimit -n"]);
    scratches.push(d.scratch);
    expect(Number(d.stdout)).toBeGreaterThanOrEqual(1024);
  });

  it("what the probe made stays in its own layer", async () => {
    const r = await probe(["chroot"]);
    expect([...readTree(r.diff).keys()]).toEqual(["/escape-x"]);
  });
});
