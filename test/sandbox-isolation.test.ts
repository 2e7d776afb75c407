// What a RUN must not be able to do: see host files or processes, reach the host's
// loopback without networking, mount, change the host's hostname, write to kernel knobs,
// or leave its rootfs (even with a chroot escape).
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { OverlaySnapshotter } from "../packages/builder/src/snapshot/index.js";
import { IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];

describe.skipIf(skip !== undefined).each(executors)("%s executor", (_n, makeExecutor) => {
  let base: string;
  let libLinks: string;
  let canaryDir: string;
  let server: Server;
  let port: number;
  let ex: Executor;
  const snap = new OverlaySnapshotter();
  const scratches: string[] = [];
  const step = async (...a: Parameters<typeof runStep> extends [unknown, unknown, ...infer R] ? R : never) => {
    const r = await runStep(ex, snap, ...a);
    scratches.push(r.scratch);
    return r;
  };

  beforeAll(async () => {
    base = makeBusyboxSnapshot(tempDir("base"));
    // For running the host's perl inside: /lib and /lib64 pointing into a bind of the host's /usr.
    libLinks = tempDir("libs");
    symlinkSync("usr/lib", `${libLinks}/lib`);
    symlinkSync("usr/lib64", `${libLinks}/lib64`);
    canaryDir = mkdtempSync("/dev/shm/tbuild-canary-");
    writeFileSync(`${canaryDir}/secret`, "host secret\n");
    server = createServer((s) => s.end("hello from the host\n"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
    ex = makeExecutor();
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    for (const d of [base, libLinks, canaryDir, ...scratches]) rmSync(d, { recursive: true, force: true });
  });

  it("cannot see host files", async () => {
    const r = await step([base], ["/bin/sh", "-c", `cat ${canaryDir}/secret; find / -name 'tbuild-canary-*' 2>/dev/null; echo done`]);
    expect(r.stdout).toBe("done\n");
    expect(r.stderr).toContain("No such file or directory");
  });

  it("sees only its own processes", async () => {
    const r = await step([base], ["/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]);
    const [count, cmdlines] = r.stdout.split("\n");
    expect(Number(count)).toBeLessThanOrEqual(6);
    expect(cmdlines).not.toMatch(/node|vitest/);
  });

  it("has only loopback and cannot reach the host's 127.0.0.1 with network none", async () => {
    const r = await step([base], ["/bin/sh", "-c", `ls /sys/class/net; ip -o link | grep -c UP; nc -w 2 127.0.0.1 ${port} </dev/null && echo CONNECTED || echo refused`], { network: "none" });
    expect(r.stdout).toBe("lo\n1\nrefused\n");
  });

  it("reaches the host's loopback with network host and default", async () => {
    for (const network of ["host", "default"] as const) {
      const r = await step([base], ["/bin/sh", "-c", `nc -w 2 127.0.0.1 ${port} </dev/null`], { network });
      expect(r.stdout).toBe("hello from the host\n");
    }
  });

  it("cannot mount, change the host's hostname or write kernel knobs", async () => {
    // A /proc file Docker masks that this kernel has: it must read empty.
    const masked = ["/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug"].find((p) => existsSync(p))!;
    const r = await step([base], ["/bin/sh", "-c", [
      "mkdir -p /mnt/t; mount -t tmpfs none /mnt/t && echo MOUNTED",
      "hostname evil && echo RENAMED",
      "echo h > /proc/sysrq-trigger && echo SYSRQ",
      "echo 1 > /proc/sys/vm/drop_caches && echo SYSCTL",
      `wc -c < ${masked}`,
      "ls /sys/firmware | wc -l",
      "touch /sys/kernel/x 2>/dev/null && echo SYSFS",
      "hostname",
    ].join("; ")]);
    expect(r.stdout).not.toMatch(/MOUNTED|RENAMED|SYSRQ|SYSCTL|SYSFS/);
    expect(r.stdout).toBe("0\n0\nbuildkitsandbox\n");
    expect(hostname()).not.toBe("evil");
  });

  it("cannot change the host's device nodes through its /dev", async () => {
    const before = ["/dev/null", "/dev/full"].map((p) => statSync(p).mode);
    try {
      const r = await step([base], ["/bin/sh", "-c", "chmod 600 /dev/null /dev/full && chown 1:1 /dev/full && ls -ln /dev/full && echo x > /dev/null && head -c 2 /dev/zero | wc -c"]);
      expect(r.stdout).toMatch(/^crw-------\s+1\s+1\s+1\s/);
      expect(r.stdout).toMatch(/\n2\n$/);
      expect(["/dev/null", "/dev/full"].map((p) => statSync(p).mode)).toEqual(before);
      expect(statSync("/dev/full").uid).toBe(0);
      const next = await step([base], ["/bin/sh", "-c", "stat -c '%a %u' /dev/null /dev/full"]);
      expect(next.stdout).toBe("666 0\n666 0\n");
    } finally {
      // Should the sandbox ever have reached them, put the host's nodes back.
      chmodSync("/dev/null", before[0]! & 0o7777);
      chmodSync("/dev/full", before[1]! & 0o7777);
    }
  });

  it("cannot leave its rootfs, not even by escaping a chroot", async () => {
    const perl = [
      'mkdir "/x"; chroot "/x" or die "chroot: $!"; chdir ".." for 1..64; chroot "." or die "chroot2: $!";',
      `print((-e "${canaryDir}/secret") ? "CANARY\\n" : "no canary\\n");`,
      'print((-e "/work" || -e "/root/.bashrc" || -e "/dev/shm/peers") ? "HOST ROOT\\n" : "no host root\\n");',
      'print((open(F, ">", "/escaped") ? "WROTE" : "no write") . "\\n");',
    ].join(" ");
    const r = await step([libLinks, base], ["/usr/bin/perl", "-e", perl], {
      mounts: [{ type: "bind", source: "/usr", target: "/usr", readonly: true }],
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["no canary", "no host root"]);
    // Whatever the escapee could write to is discarded with the sandbox: not the host, not the layer outside /.
    expect(() => readFileSync("/escaped")).toThrow();
    const t = readTree(r.diff);
    for (const p of t.keys()) expect(["/x", "/escaped"]).toContain(p);
  });

  it("cannot write through .. or absolute symlinks to the host", async () => {
    const r = await step([base], ["/bin/sh", "-c", `ln -s ${canaryDir} /link; echo pwned > /link/secret2; echo pwned > /../../../../tmp-escape; ls /`]);
    expect(readFileSync(`${canaryDir}/secret`, "utf8")).toBe("host secret\n");
    expect(() => readFileSync(`${canaryDir}/secret2`)).toThrow();
    expect(readTree(r.diff).get("/tmp-escape")).toMatchObject({ type: "file" });
  });
});
