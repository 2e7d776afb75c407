// Hostile RUN steps, end to end through build() on both executors: reading host files,
// seeing host processes, reaching a host server with networking off, mounting, renaming
// the host, kernel knobs, the runc "leaky vessels" class (CVE-2024-21626: a working
// directory or `cd` into /proc/self/fd/N reaching a host directory through a leaked file
// descriptor), and image symlinks that aim the sandbox's own mounts (RUN --mount targets,
// secrets, /etc/hosts) at host paths. Host-side markers carry a random token; it must never
// show in any output, and the host's state must be unchanged. Needs root, runc.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectSuccess, type Attempt } from "../support/hostile-build.js";
import { plantCanary, type Canary } from "../support/hostile-host.js";
import { mountsMentioning } from "../support/hostile-procs.js";
import { Tally } from "../support/hostile-tally.js";

/** Names of host-side markers (commands mention them, so error messages may echo them). */
const token = `tbuildleak${process.pid}x${Date.now()}`;
/** Content of the host-side markers and the server's greeting: must never show in any output. */
const secret = `hostsecret${randomBytes(10).toString("hex")}`;
let canary: Canary;
let scratch: string;
let watch: string;
let server: Server;
let port: number;
let connections = 0;
let sleeper: ChildProcess;
const hostMarkers = [`/tmp/${token}`, `/${token}`];

beforeAll(async () => {
  scratch = mkdtempSync("/dev/shm/tbuild-hostile-sandbox-");
  watch = path.join(scratch, "watch");
  mkdirSync(watch);
  mkdirSync(path.join(scratch, "canary"));
  canary = plantCanary(path.join(scratch, "canary"));
  for (const m of hostMarkers) writeFileSync(m, `${secret}\n`);
  server = createServer((s) => {
    connections++;
    s.end(`${secret} from the host\n`);
  });
  await new Promise<void>((r) => server.listen(0, "0.0.0.0", r));
  port = (server.address() as { port: number }).port;
  sleeper = spawn("sleep", [`1${String(process.pid).padStart(7, "0")}`], { stdio: "ignore" });
});
afterAll(async () => {
  sleeper?.kill("SIGKILL");
  await new Promise((r) => server?.close(r));
  for (const m of hostMarkers) rmSync(m, { force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A non-loopback address of this host, if it has one. */
function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/** The step output (stdout and stderr of every RUN) of an attempt. */
function output(a: Attempt): string {
  return a.events.map((e) => (e.type === "step-log" ? e.data : "")).join("");
}

describe.each(["runc", "unshare"] as const)("hostile RUN steps (%s executor)", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  /** Runs `script` in a RUN (no cache) and returns the attempt; no host secret may show. */
  async function run(script: string, opts: { network?: "none" | "default" | "host"; pre?: string[]; secrets?: { id: string; env: string }[] } = {}): Promise<Attempt> {
    const dockerfile = ["FROM busybox", ...(opts.pre ?? []), `RUN ${script}`, ""].join("\n");
    const a = await attempt(env, { context: env.context({ Dockerfile: dockerfile }), executor, network: opts.network, secrets: opts.secrets, noCache: true });
    expect(a.said).not.toContain(secret);
    expect(a.said).not.toContain(canary.token);
    return a;
  }

  it("cannot reach the host", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const hostsBefore = hostname();
    const mountsBefore = mountsMentioning(`hostile${process.pid}`).length + mountsMentioning("/mnt/").length;

    await t.check("read host files", async () => {
      const a = await run(`cat ${canary.file} /tmp/${token} /${token} 2>&1; true`);
      expectSuccess(a, "read");
      expect(output(a)).toContain("No such file or directory");
      const b = await run("find / -xdev -name 'tbuildleak*' 2>/dev/null; ls -a / /tmp; true");
      expectSuccess(b, "find");
      expect(output(b)).not.toContain(token);
    });

    await t.check("see host processes", async () => {
      const a = await run("ls /proc | grep -c '^[0-9]' ; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ps -o pid,args 2>/dev/null; true");
      expectSuccess(a, "ps");
      const out = output(a);
      expect(out).not.toContain(`1${String(process.pid).padStart(7, "0")}`);
      expect(out).not.toMatch(/vitest|node /);
      expect(Number(out.split("\n")[0])).toBeLessThanOrEqual(8);
    });

    const address = hostAddress();
    for (const network of ["none", "run-flag"] as const) {
      await t.check(`reach a host server with networking off (${network})`, async () => {
        const before = connections;
        const targets = [`127.0.0.1 ${port}`, ...(address ? [`${address} ${port}`] : [])];
        const probe = targets.map((x) => `nc -w 2 ${x} </dev/null; wget -q -T 2 -O - http://${x.replace(" ", ":")}/ 2>&1`).join("; ");
        const a = network === "none" ? await run(`${probe}; ls /sys/class/net; true`, { network: "none" }) : await run(`--network=none sh -c '${probe}; ls /sys/class/net; true'`);
        expectSuccess(a, "network");
        expect(connections, "connections the host server accepted").toBe(before);
        expect(output(a)).toMatch(/^lo$/m);
      });
    }

    await t.check("mount things", async () => {
      const a = await run(`mkdir -p /mnt/a /mnt/b /mnt/c; mount -t tmpfs hostile${process.pid} /mnt/a && echo MOUNTED-tmpfs; mount --bind / /mnt/b && echo MOUNTED-bind; mount -t proc proc /mnt/c && echo MOUNTED-proc; mount -o remount,rw /sys && echo REMOUNTED; umount -l /proc && echo UNMOUNTED; true`);
      expectSuccess(a, "mount");
      expect(output(a)).not.toMatch(/MOUNTED|REMOUNTED|UNMOUNTED/);
      expect(mountsMentioning(`hostile${process.pid}`).length + mountsMentioning("/mnt/").length).toBe(mountsBefore);
    });

    await t.check("rename the host or write kernel knobs", async () => {
      const a = await run(`hostname evil-${process.pid} && echo RENAMED; echo evil > /proc/sys/kernel/hostname && echo RENAMED2; echo 1 > /proc/sys/kernel/sysrq && echo SYSCTL; echo x > /sys/fs/cgroup/release_agent 2>/dev/null && echo AGENT; mkdir /sys/fs/cgroup/hostile 2>/dev/null && echo CGROUP; hostname`);
      expectSuccess(a, "hostname");
      expect(output(a)).not.toMatch(/RENAMED|SYSCTL|AGENT|CGROUP/);
      expect(hostname()).toBe(hostsBefore);
    });

    await t.check("climb out of /proc/self/fd/N with cd (CVE-2024-21626 class)", async () => {
      const a = await run(`for n in $(seq 3 40); do ( cd /proc/self/fd/$n 2>/dev/null && ls -a . .. ../.. ../../.. ../../../.. ../../../tmp 2>/dev/null ); done; ls -l /proc/self/fd /proc/1/fd 2>/dev/null; ls -a /proc/1/root/ /proc/self/cwd/../../../; true`);
      expectSuccess(a, "cd /proc/self/fd");
      expect(output(a)).not.toContain(token);
    });

    for (const n of [3, 4, 5, 6, 7, 8, 9]) {
      await t.check(`WORKDIR /proc/self/fd/${n} (CVE-2024-21626 class)`, async () => {
        const a = await run("pwd; ls -a . .. ../.. ../../.. ../../../.. ../../../../tmp; cat ../../../tmp/* ../../../../tmp/* 2>/dev/null; true", { pre: [`WORKDIR /proc/self/fd/${n}`] });
        // Refusing the directory is fine; running in it must not show the host.
        if (a.error) expect(a.error.message).not.toMatch(/\n\s+at /);
        expect(output(a)).not.toContain(token);
      });
    }

    await t.check("image symlinks aim RUN --mount targets, secrets and etc files at the host", async () => {
      process.env.TBUILD_HOSTILE_SECRET = "s";
      const pre = [`RUN ln -s ${watch} /m && rm -rf /run && mkdir /run && ln -s ${watch} /run/secrets && ln -sf ${watch}/hosts /etc/hosts && ln -sf ${watch}/resolv.conf /etc/resolv.conf && ln -sf ${watch}/hostname /etc/hostname && ln -s ${watch} /wd`];
      const a = await run(`--mount=type=tmpfs,target=/m/t --mount=type=secret,id=s,required=true --mount=type=cache,target=/m/c sh -c 'echo x > /m/t/f; echo y > /m/c/f; cat /run/secrets/s; cat /etc/hosts /etc/resolv.conf > /dev/null; true'`, {
        pre, secrets: [{ id: "s", env: "TBUILD_HOSTILE_SECRET" }],
      });
      if (a.error) expect(a.error.message).not.toMatch(/\n\s+at /);
      expect(readdirSync(watch)).toEqual([]);
      const b = await run("pwd > /dev/null; echo z > f; true", { pre: [...pre, "WORKDIR /wd/sub"] });
      if (b.error) expect(b.error.message).not.toMatch(/\n\s+at /);
      expect(readdirSync(watch)).toEqual([]);
    });

    await t.check("the host is unchanged", () => {
      canary.verify();
      expect(readdirSync(watch)).toEqual([]);
      expect(hostname()).toBe(hostsBefore);
      expect(mountsMentioning(`hostile${process.pid}`).length + mountsMentioning("/mnt/").length).toBe(mountsBefore);
    });
    t.assertClean();
  });
});
