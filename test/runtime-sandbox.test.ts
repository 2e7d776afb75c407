// A container is no weaker than a RUN step (issue 18): the attacker's probe of the sandbox
// suite (test/support/probes/escape-probe.c, the cases of sandbox-containment.test.ts) run
// as a container's command with `tbuild run` and as a second process with `tbuild exec`,
// with the same expectations: chroot escape, descriptors, kernel knobs, device nodes,
// refused calls, seccomp, capabilities, no view of tbuild, nothing left running. Needs root,
// gcc and static libc.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capMask } from "../packages/builder/src/sandbox/capabilities.js";
import { findings } from "./sandbox-helpers.js";
import { createRuntimeEnv, type RuntimeEnv } from "./support/runtime-env.js";

let env: RuntimeEnv;
beforeAll(async () => {
  env = await createRuntimeEnv("tbuild-rt-sandbox", "172.30.54.0/24");
  mkdirSync(join(env.dir, "probe"));
  execFileSync("gcc", ["-static", "-O1", "-o", join(env.dir, "probe", "probe"), new URL("./support/probes/escape-probe.c", import.meta.url).pathname]);
  chmodSync(join(env.dir, "probe", "probe"), 0o755);
  env.write({ "probe/Dockerfile": "FROM busybox\nCOPY probe /probe\nRUN touch /.tbuild-rootfs-marker\n" });
  await env.ok(["build", "-q", "-t", "probe", "probe"]);
  await env.ok(["run", "-d", "--name", "target", "--network", "none", "probe", "sh", "-c", "while true; do sleep 0.1; done"]);
}, 300_000);
afterAll(async () => {
  if (!env) return;
  expect(await env.teardown()).toEqual([]);
  env.cleanup();
});

const DOCKER_CAPS_HEX = capMask().toString(16).padStart(16, "0");

const ways: [string, (args: string[], user?: string) => Promise<Map<string, string>>][] = [
  ["run", async (args, user) => findings((await env.tb(["run", "--rm", "--network", "none", ...(user ? ["-u", user] : []), "probe", "/probe", ...args])).stdout)],
  ["exec", async (args, user) => findings((await env.tb(["exec", ...(user ? ["-u", user] : []), "target", "/probe", ...args])).stdout)],
];

describe.each(ways)("a process of tbuild %s", (_way, probe) => {
  it("a chroot escape lands in the container's own rootfs", async () => {
    const f = await probe(["chroot"]);
    expect(f.get("chroot1")).toBe("ok");
    expect(f.get("marker")).toBe("present");
    const names = f.get("root")!.split("\n");
    expect(names).toContain("probe");
    for (const host of ["work", "run", "boot", "lib64", "srv"]) expect(names).not.toContain(host);
    expect(f.get("core_pattern")).not.toBe("WRITABLE");
  }, 60_000);

  it("holds no descriptor but stdio, and magic links stay inside", async () => {
    const f = await probe(["fds"]);
    expect([...f.keys()].filter((k) => /^fd\d+$/.test(k)).sort()).toEqual(["fd0", "fd1", "fd2"]);
    expect(f.get("fd0")).toMatch(/^\/dev\/null dev=\d+:\d+ rdev=1:3$/);
    expect(f.get("link /proc/self/root")).toBe("/");
    expect(f.get("link /proc/1/root")).toBe("/");
  }, 60_000);

  it("cannot write kernel knobs or read masked /proc files", async () => {
    const f = await probe(["knobs"]);
    for (const k of ["core_pattern", "sysrq", "sys_uevent", "modprobe"]) expect(f.get(k), k).not.toBe("WRITABLE");
    expect(Number(f.get("kcore_bytes"))).toBeLessThanOrEqual(0);
  }, 60_000);

  it("can mknod but cannot open the node; the default devices work", async () => {
    const f = await probe(["devices"]);
    for (const p of ["/tmp/kmsg", "/dev/kmsg2", "/dev/shm/mem"]) expect(f.get(`open ${p}`) ?? "not made", p).not.toBe("OPENED");
    expect(f.get("open /dev/null")).toBe("ok");
  }, 60_000);

  it("refuses namespaces, mount, keyctl, bpf and perf_event_open; seccomp on, no_new_privs off, Docker's capabilities (none for a user)", async () => {
    const f = await probe(["syscalls"]);
    for (const k of ["unshare_user", "unshare_mnt", "clone_newuser", "mount", "keyctl", "bpf", "perf_event_open", "sethostname", "setns"]) expect(f.get(k), k).toBe("Operation not permitted");
    expect(f.get("clone3")).toBe("Function not implemented");
    expect(f.get("Seccomp")).toBe("2");
    expect(f.get("NoNewPrivs")).toBe("0");
    expect(f.get("CapBnd")).toBe(DOCKER_CAPS_HEX);
    expect(f.get("CapEff")).toBe(DOCKER_CAPS_HEX);
    const user = await probe(["syscalls"], "65534");
    expect(user.get("CapEff")).toBe("0000000000000000");
    expect(user.get("CapBnd")).toBe(DOCKER_CAPS_HEX);
    expect(user.get("Seccomp")).toBe("2");
  }, 60_000);

  it("cannot signal, trace or read the environment of tbuild", async () => {
    const f = await probe(["outside", String(process.pid)]);
    expect(f.get("kill")).toBe("No such process");
    expect(f.get("ptrace")).toBe("No such process");
    expect(f.get("environ")).toBe("No such file or directory");
  }, 60_000);
});

describe("a container's processes", () => {
  it("end with it: a daemon started inside does not outlive the container", async () => {
    const mark = `${Math.floor(Math.random() * 1e6) + 7_000_000}`;
    await env.ok(["exec", "target", "sh", "-c", `(setsid sleep ${mark} </dev/null >/dev/null 2>&1 &); echo started`]);
    expect(execFileSync("ps", ["-eo", "args"]).toString()).toContain(`sleep ${mark}`);
    await env.ok(["stop", "-t", "0", "target"]);
    const left = execFileSync("ps", ["-eo", "args"]).toString().split("\n").filter((l) => l.includes(`sleep ${mark}`));
    expect(left).toEqual([]);
  }, 60_000);
});
