// The sandbox's own files and RUN --mount style mounts: present during the run, never in
// the layer; writable ones behave as specified (bind rw writes through, tmpfs and writable
// layer stacks are discarded).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
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
    let withEtc: string;
    let host: string;
    let layerA: string;
    let layerB: string;
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
      withEtc = tempDir("etc");
      mkdirSync(`${withEtc}/etc`);
      writeFileSync(`${withEtc}/etc/hosts`, "image hosts\n");
      writeFileSync(`${withEtc}/etc/hostname`, "image-hostname\n");
      host = tempDir("host");
      mkdirSync(`${host}/dir`);
      writeFileSync(`${host}/dir/in`, "from host\n");
      writeFileSync(`${host}/file`, "host file\n");
      layerA = tempDir("layerA");
      layerB = tempDir("layerB");
      writeFileSync(`${layerA}/a`, "a\n");
      writeFileSync(`${layerA}/shadowed`, "lower\n");
      writeFileSync(`${layerB}/b`, "b\n");
      writeFileSync(`${layerB}/shadowed`, "upper\n");
      ex = makeExecutor();
      snap = makeSnapshotter();
    });
    afterAll(() => {
      for (const d of [base, withEtc, host, layerA, layerB, ...scratches]) rmSync(d, { recursive: true, force: true });
    });

    it("provides /etc/hosts, resolv.conf and hostname during the run but not in the diff", async () => {
      const r = await step([base], ["/bin/sh", "-c", "cat /etc/hosts /etc/hostname; test -f /etc/resolv.conf && echo resolv; echo x > /etc/hosts 2>/dev/null || echo ro"], { network: "host" });
      expect(r.stdout).toBe("127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\nbuildkitsandbox\nresolv\nro\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
      const own = await step([withEtc, base], ["/bin/sh", "-c", "cat /etc/hosts /etc/resolv.conf"], { network: "none" });
      expect(own.stdout).toBe("127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n" + own.stdout.split("ip6-loopback\n")[1]);
      expect(own.stdout).not.toContain("image hosts");
      expect(own.stdout).not.toMatch(/nameserver 127\./);
      expect([...readTree(own.diff).keys()]).toEqual([]);
    });

    it("uses the given hosts and resolv.conf contents", async () => {
      const scratch = tempDir("scratch");
      scratches.push(scratch);
      const rootfs = await snap.prepare([base], scratch);
      let out = "";
      await ex.run({
        rootfs, args: ["/bin/sh", "-c", "cat /etc/hosts /etc/resolv.conf"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0, additionalGids: [] },
        network: "none", mounts: [], etcHosts: "10.0.0.1 db\n", resolvConf: "nameserver 10.0.0.53\n",
        stdout: (b) => (out += b), stderr: () => {},
      });
      await snap.release(rootfs);
      expect(out).toBe("10.0.0.1 db\nnameserver 10.0.0.53\n");
    });

    it("binds host paths read-only and read-write", async () => {
      const r = await step([base], ["/bin/sh", "-c", [
        "cat /ro/in /rofile",
        "(echo nope > /ro/new) 2>/dev/null || echo ro-denied",
        "echo written > /rw/new && echo rw-ok",
      ].join("; ")], {
        mounts: [
          { type: "bind", source: `${host}/dir`, target: "/ro", readonly: true },
          { type: "bind", source: `${host}/file`, target: "/rofile", readonly: true },
          { type: "bind", source: `${host}/dir`, target: "/rw", readonly: false },
        ],
      });
      expect(r.stdout).toBe("from host\nhost file\nro-denied\nrw-ok\n");
      expect(readFileSync(`${host}/dir/new`, "utf8")).toBe("written\n");
      rmSync(`${host}/dir/new`);
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("mounts a tmpfs whose contents are discarded", async () => {
      const r = await step([base], ["/bin/sh", "-c", "echo x > /cache/f && ls /cache && stat -c %a /cache && df -k /cache | tail -1 | awk '{print $2}'"], {
        mounts: [{ type: "tmpfs", target: "/cache", size: 8 << 20, mode: 0o755 }],
      });
      expect(r.stdout).toBe("f\n755\n8192\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("mounts layer stacks read-only and read-write (changes discarded), and an empty one", async () => {
      const r = await step([base], ["/bin/sh", "-c", [
        "cat /ro/a /ro/b /ro/shadowed",
        "(echo x > /ro/new) 2>/dev/null || echo ro-denied",
        "echo changed > /rw/a && rm /rw/b && cat /rw/a && ls /rw",
        "ls -A /empty | wc -l",
        "(echo x > /single/new) 2>/dev/null || echo single-ro; cat /single/a",
      ].join("; ")], {
        mounts: [
          { type: "layers", lowers: [layerB, layerA], target: "/ro", readonly: true },
          { type: "layers", lowers: [layerB, layerA], target: "/rw", readonly: false },
          { type: "layers", lowers: [], target: "/empty", readonly: false },
          { type: "layers", lowers: [layerA], target: "/single", readonly: true },
        ],
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("a\nb\nupper\nro-denied\nchanged\na\nshadowed\n0\nsingle-ro\na\n");
      expect(readFileSync(`${layerA}/a`, "utf8")).toBe("a\n");
      expect(readdirSync(layerB).sort()).toEqual(["b", "shadowed"]);
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("mounts inside an earlier mount of the step", async () => {
      const r = await step([base], ["/bin/sh", "-c", "cat /cache/sub/in; ls /cache"], {
        mounts: [
          { type: "tmpfs", target: "/cache" },
          { type: "bind", source: `${host}/dir`, target: "/cache/sub", readonly: true },
        ],
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("from host\nsub\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("places a mount inside /dev (the builder's heredoc scripts) and runs it", async () => {
      writeFileSync(`${host}/script`, "#!/bin/sh\necho from script $0\n", { mode: 0o755 });
      const r = await step([base], ["/dev/pipes/script"], { mounts: [{ type: "bind", source: `${host}/script`, target: "/dev/pipes/script", readonly: true }] });
      expect(r.stdout).toBe("from script /dev/pipes/script\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });

    it("follows the image's symlinks for mount targets inside the rootfs", async () => {
      const linked = tempDir("linked");
      scratches.push(linked);
      mkdirSync(`${linked}/etc`);
      const { symlinkSync } = await import("node:fs");
      symlinkSync("../run/resolv.conf", `${linked}/etc/resolv.conf`);
      symlinkSync("/data", `${linked}/mnt-link`);
      const r = await step([linked, base], ["/bin/sh", "-c", "cat /run/resolv.conf | head -1; cat /data/in"], {
        resolvConf: "nameserver 192.0.2.1\n",
        mounts: [{ type: "bind", source: `${host}/dir`, target: "/mnt-link", readonly: true }],
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe("nameserver 192.0.2.1\nfrom host\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });
  });
});
