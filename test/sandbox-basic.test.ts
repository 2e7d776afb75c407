// End-to-end checks of both executors on both snapshotters (as root, with a busybox
// rootfs): output, exit codes, environment, working directory, user and groups.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, SandboxError, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { CopySnapshotter, OverlaySnapshotter, type Snapshotter } from "../packages/builder/src/snapshot/index.js";
import { IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];
const snapshotters: [string, () => Snapshotter][] = [
  ["overlay", () => new OverlaySnapshotter()],
  ["copy", () => new CopySnapshotter()],
];

describe.skipIf(skip !== undefined).each(executors)("%s executor", (_n, makeExecutor) => {
  describe.each(snapshotters)("%s snapshotter", (_s, makeSnapshotter) => {
    let base: string;
    let ex: Executor;
    let snap: Snapshotter;
    const scratches: string[] = [];
    const step = async (...a: Parameters<typeof runStep> extends [unknown, unknown, ...infer R] ? R : never) => {
      const r = await runStep(ex, snap, ...a);
      scratches.push(r.scratch);
      return r;
    };
    beforeAll(() => {
      base = makeBusyboxSnapshot(tempDir("base"));
      ex = makeExecutor();
      snap = makeSnapshotter();
    });
    afterAll(() => {
      rmSync(base, { recursive: true, force: true });
      for (const s of scratches) rmSync(s, { recursive: true, force: true });
    });

    it("returns the exit code and separates stdout from stderr; an untouched rootfs gives an empty diff", async () => {
      const r = await step([base], ["/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"]);
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe("hello\n");
      expect(r.stderr).toBe("oops\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("streams output while the command runs", async () => {
      const scratch = tempDir("scratch");
      scratches.push(scratch);
      const rootfs = await snap.prepare([base], scratch);
      const chunks: string[] = [];
      let sawFirstBeforeExit = false;
      const { exitCode } = await ex.run({
        rootfs, args: ["/bin/sh", "-c", "echo first; read -t 2 x < /dev/zero; sleep 0.5; echo second"], env: ["PATH=/bin"], cwd: "/",
        user: { uid: 0, gid: 0, additionalGids: [] }, network: "none", mounts: [],
        stdout: (b) => {
          chunks.push(b.toString());
          if (b.toString().includes("first") && !chunks.join("").includes("second")) sawFirstBeforeExit = true;
        },
        stderr: () => {},
      });
      await snap.release(rootfs);
      expect(exitCode).toBe(0);
      expect(chunks.join("")).toBe("first\nsecond\n");
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      expect(sawFirstBeforeExit).toBe(true);
    });

    it("reports death by a signal as 128+N", async () => {
      const r = await step([base], ["/bin/sh", "-c", "sh -c 'kill -9 $$'; s=$?; echo status $s >&2; exit $s"]);
      expect(r.exitCode).toBe(137);
      expect(r.stderr).toMatch(/status 137\n$/);
    });

    it("passes the environment exactly (names a shell would drop or rewrite too) and adds HOME like runc", async () => {
      const env = ["PATH=/bin:/usr/bin", "HOME=/root", "A=1", "WITH_SPACE=a  b", "MULTI=l1\nl2", "a.b=dotted", "IFS=x", "EMPTY="];
      const r = await step([base], ["/usr/bin/env"], { env });
      expect(r.stdout.split(/\n(?=[A-Za-z_.]+=)/).map((l) => l.replace(/\n$/, "")).sort()).toEqual([...env].sort());
      const plain = await step([base], ["/usr/bin/env"], { env: ["PATH=/bin", "FOO=bar"] });
      expect(plain.stdout.trim().split("\n").sort()).toEqual(["FOO=bar", "HOME=/root", "PATH=/bin"]);
      const nobody = await step([base], ["/usr/bin/env"], { env: ["PATH=/bin"], user: { uid: 65534, gid: 65534, additionalGids: [] } });
      expect(nobody.stdout).toContain("HOME=/nonexistent\n");
      const unknown = await step([base], ["/usr/bin/env"], { env: ["PATH=/bin"], user: { uid: 4711, gid: 4711, additionalGids: [] } });
      expect(unknown.stdout).toContain("HOME=/\n");
    });

    it("adds BuildKit's default PATH when the environment has none", async () => {
      const r = await step([base], ["env"], { env: ["X=1"] });
      expect(r.stdout).toContain("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    });

    it("creates a missing cwd for the run but leaves it out of the diff", async () => {
      const r = await step([base], ["/bin/sh", "-c", "pwd; stat -c '%u %g %a' ."], { cwd: "/work/deep", user: { uid: 65534, gid: 65534, additionalGids: [] } });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split("\n")[0]).toBe("/work/deep");
      expect(r.stdout.split("\n")[1]).toBe("65534 65534 755");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("keeps a created cwd that the command wrote into, or when asked to", async () => {
      const r = await step([base], ["/bin/sh", "-c", "echo x > f"], { cwd: "/app" });
      expect([...readTree(r.diff).keys()]).toEqual(["/app", "/app/f"]);
      const k = await step([base], ["true"], { cwd: "/kept", commitCwd: true });
      expect([...readTree(k.diff).keys()]).toEqual(["/kept"]);
    });

    it("runs as the given user with its additional groups", async () => {
      const r = await step([base], ["/bin/sh", "-c", "id -u; id -g; id -G; touch /root/x 2>/dev/null && echo wrote || echo denied"], {
        user: { uid: 65534, gid: 65534, additionalGids: [100, 4242] },
      });
      expect(r.stdout.split("\n").slice(0, 4)).toEqual(["65534", "65534", "65534 100 4242", "denied"]);
      const root = await step([base], ["/bin/sh", "-c", "id -u; id -G"], { user: { uid: 0, gid: 0, additionalGids: [] } });
      expect(root.stdout).toBe("0\n0\n");
    });

    it("has no capabilities as a non-root user and Docker's set as root", async () => {
      const r = await step([base], ["/bin/sh", "-c", "grep -E '^Cap(Eff|Bnd|Inh|Amb)' /proc/self/status; grep NoNewPrivs /proc/self/status"], {
        user: { uid: 1000, gid: 1000, additionalGids: [] },
      });
      expect(r.stdout).toContain("CapEff:\t0000000000000000");
      expect(r.stdout).toContain("CapBnd:\t00000000a80425fb");
      expect(r.stdout).toContain("NoNewPrivs:\t0");
      const root = await step([base], ["/bin/sh", "-c", "grep -E '^Cap(Eff|Inh|Amb)' /proc/self/status"]);
      expect(root.stdout).toBe("CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\nCapAmb:\t0000000000000000\n");
    });

    it("rejects with a clear error when the command does not exist", async () => {
      const err = await step([base], ["no-such-command", "x"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe("EXEC");
      expect((err as Error).message).toBe('exec: "no-such-command": executable file not found in $PATH');
      const abs = await step([base], ["/nope/cmd"]).catch((e: unknown) => e);
      expect((abs as Error).message).toBe('exec: "/nope/cmd": stat /nope/cmd: no such file or directory');
    });

    it("rejects with a clear error when the command cannot be executed", async () => {
      const junk = tempDir("junk");
      scratches.push(junk);
      const { writeFileSync, chmodSync } = await import("node:fs");
      writeFileSync(`${junk}/not-a-program`, "just text\n");
      writeFileSync(`${junk}/bad-elf`, "\x7fELF garbage");
      chmodSync(`${junk}/not-a-program`, 0o755);
      chmodSync(`${junk}/bad-elf`, 0o755);
      chmodSync(junk, 0o755);
      const err = await step([junk, base], ["/not-a-program"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe("EXEC");
      expect((err as Error).message).toBe('exec: "/not-a-program": exec format error');
      const elf = await step([junk, base], ["/bad-elf"]).catch((e: unknown) => e);
      expect(elf).toBeInstanceOf(SandboxError);
      expect((elf as Error).message).toMatch(/bad-elf.*exec format error/i);
    });

    it("runs a command given by a relative path from the cwd", async () => {
      const r = await step([base], ["./busybox", "echo", "rel"], { cwd: "/bin" });
      expect(r.stdout).toBe("rel\n");
    });

    it("stubs every mountpoint of a rootfs that holds nothing but a binary, and removes them all", async () => {
      const bare = tempDir("bare");
      scratches.push(bare);
      const { copyFileSync, chmodSync } = await import("node:fs");
      copyFileSync(`${base}/bin/busybox`, `${bare}/busybox`);
      chmodSync(`${bare}/busybox`, 0o755);
      chmodSync(bare, 0o755);
      const r = await step([bare], ["/busybox", "sh", "-c", "/busybox ls / /etc; /busybox cat /etc/hostname"], { cwd: "/w/d", env: [] });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("/:\nbusybox\ndev\netc\nproc\nsys\nw\n\n/etc:\nhostname\nhosts\nresolv.conf\nbuildkitsandbox\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("sets the hostname (default buildkitsandbox) and /etc/hostname", async () => {
      const r = await step([base], ["/bin/sh", "-c", "hostname; cat /etc/hostname"]);
      expect(r.stdout).toBe("buildkitsandbox\nbuildkitsandbox\n");
      const named = await step([base], ["hostname"], { hostname: "builder-1" });
      expect(named.stdout).toBe("builder-1\n");
    });
  });
});
