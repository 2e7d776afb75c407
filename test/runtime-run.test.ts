// `tbuild run` in the foreground (issue 18, part 1): the image's config, Docker's flags,
// the exit status, signals, a terminal, bind mounts, named and anonymous volumes, tmpfs,
// --network none/host, --read-only, and the volume commands. Needs root (the sandbox).
import { spawn } from "node:child_process";
import { chownSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain, hasStackTrace, tbuild } from "../packages/cli/test-support/run-cli.js";
import { createRuntimeEnv, type RuntimeEnv } from "./support/runtime-env.js";
import { startRegistry } from "./support/registry.js";

let env: RuntimeEnv;
beforeAll(async () => {
  env = await createRuntimeEnv("tbuild-rt-run", "172.30.51.0/24");
  env.write({
    "app/Dockerfile": [
      "FROM busybox",
      "RUN mkdir -p /work /seed && echo from-image > /seed/file && chown -R 1234:1234 /seed && chmod 750 /seed",
      "ENV GREETING=hi OTHER=kept",
      "WORKDIR /work",
      "USER 65534",
      "VOLUME /seed",
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo $GREETING $OTHER from $(pwd) as $(id -u); exit 7"]',
      "",
    ].join("\n"),
  });
  await env.ok(["build", "-q", "-t", "app", "app"]);
}, 300_000);
afterAll(async () => {
  if (!env) return;
  expect(await env.teardown()).toEqual([]);
  env.cleanup();
});

const run = (args: string[], opts = {}) => env.tb(["run", "--rm", "--network", "none", ...args], opts);

describe("tbuild run", { timeout: 120_000 }, () => {
  it("runs the image's Entrypoint and Cmd with its Env, User and WorkingDir, and passes the exit status through", async () => {
    const r = await run(["app"]);
    expect(r.stdout).toBe("hi kept from /work as 65534\n");
    expect(r.code).toBe(7);
  });

  it("-e, --env-file, -w, -u and --entrypoint override the image (an --entrypoint drops its Cmd)", async () => {
    env.write({ "vars.env": "# comment\nFROM_FILE=1\nGREETING=from-file\nPASSED\n" });
    const r = await run(["-e", "GREETING=yo", "--env-file", "vars.env", "-e", "PASSED", "-w", "/tmp/new", "-u", "0:0", "app", "echo $GREETING $FROM_FILE $PASSED $OTHER from $(pwd) as $(id -u):$(id -g)"], { env: { PASSED: "from-host" } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("yo 1 from-host kept from /tmp/new as 0:0\n");
    expect(r.code).toBe(0);
    const e = await run(["--entrypoint", "echo", "app"]);
    expect(e.stdout).toBe("\n");
    const e2 = await run(["--entrypoint", "echo", "app", "a", "b"]);
    expect(e2.stdout).toBe("a b\n");
    const cleared = await run(["--entrypoint", "", "-u", "0", "app", "id", "-un"]);
    expect(cleared.stdout).toBe("root\n");
    const named = await run(["--hostname", "box1", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep -c box1 /etc/hosts"]);
    expect(named.stdout).toBe("box1\nbox1\n0\n");
  });

  it("options end at the image: flags after it belong to the command", async () => {
    const r = await run(["busybox", "ls", "-d", "-t", "/"]);
    expect(r.stdout).toBe("/\n");
    expect(r.code).toBe(0);
  });

  it("a command that does not exist fails with Docker's 127; a missing image is one error paragraph", async () => {
    const r = await run(["busybox", "no-such-command"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/executable file not found/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const m = await run(["--pull", "never", "no-such-image"]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^ERROR: image no-such-image not found/);
    expect(hasStackTrace(m.stderr)).toBe(false);
  });

  it("an image the store lacks is pulled first (--pull missing, Docker's default); --pull never refuses, always pulls again", async () => {
    const reg = await startRegistry();
    try {
      const remote = `${reg.host}/team/app:1`;
      await env.ok(["tag", "app", remote]);
      await env.ok(["push", "-q", remote]);
      const fresh = join(env.dir, "pull-store");
      const inFresh = (args: string[]) => tbuild(["--root", fresh, "run", "--rm", "--network", "none", ...args], { env: { TBUILD_BRIDGE_SUBNET: "172.30.51.0/24" } });
      const never = await inFresh(["--pull", "never", remote]);
      expect(never.code).toBe(1);
      expect(never.stderr).toMatch(/^ERROR: image .*team\/app:1 not found/m);
      const first = await inFresh([remote]);
      expect(first.stderr).toContain(`Unable to find image '${remote}' locally`);
      expect(first.stdout).toBe("hi kept from /work as 65534\n");
      expect(first.code).toBe(7);
      const again = await inFresh([remote]);
      expect(again.stderr).not.toContain("Unable to find image");
      expect((await inFresh(["--pull", "always", remote])).stderr).toContain(`pulling ${remote}`);
      expect((await inFresh(["--pull", "sometimes", remote])).code).toBe(2);
    } finally {
      await reg.stop();
    }
  });

  it("bad flag values are usage errors (exit 2)", async () => {
    for (const args of [["-p", "80"], ["-p", "x:y"], ["--restart", "sometimes"], ["--restart", "always"], ["-v", "a:b"], ["--mount", "type=nfs,target=/x"]]) {
      const r = await run([...args, "busybox", "true"]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^tbuild run: /);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it.each([["SIGTERM", 5], ["SIGINT", 6]] as const)("forwards %s to the container and passes its exit status on", async (sig, status) => {
    const child = spawn(process.execPath, [cliMain, "--root", env.root, "run", "--rm", "--network", "none", "busybox", "sh", "-c", 'trap "echo got TERM; exit 5" TERM; trap "echo got INT; exit 6" INT; echo ready; while true; do sleep 0.1; done'], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    }));
    child.kill(sig);
    const code = await new Promise((r) => child.on("close", r));
    expect(out).toBe(`ready\ngot ${sig.slice(3)}\n`);
    expect(code).toBe(status);
  });

  it("-t gives a terminal of the container's own devpts; -i passes stdin", async () => {
    const t = await run(["-t", "busybox", "sh", "-c", "tty; echo line"]);
    expect(t.stdout).toBe("/dev/pts/0\r\nline\r\n");
    const i = await run(["-i", "busybox", "sh", "-c", "tr a-z A-Z; echo end"], { input: "piped text\n" });
    expect(i.stdout).toBe("PIPED TEXT\nend\n");
  });

  it("-it on a terminal: the window size is passed on and Ctrl-C goes to the container's foreground process", async () => {
    // script(1) gives the CLI a terminal of its own (33 rows, 101 columns).
    const cmd = `stty rows 33 cols 101; ${process.execPath} ${cliMain} --root ${env.root} run -it --rm --network none busybox sh -c 'stty size; trap "echo INT; exit 9" INT; echo ready; while true; do sleep 0.1; done'; echo "exit=$?"`;
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    }));
    child.stdin.write("\x03");
    await new Promise((r) => child.on("close", r));
    expect(out.replace(/\r/g, "")).toMatch(/33 101\nready\n(\^C)?INT\nexit=9\n$/);
  });

  it("a bind mount shows the host's files with their owners and modes, and writes go to the host", async () => {
    const dir = join(env.dir, "bind");
    mkdirSync(dir);
    writeFileSync(join(dir, "owned"), "host data\n");
    chownSync(join(dir, "owned"), 1234, 4321);
    chmodSync(join(dir, "owned"), 0o640);
    const r = await run(["-v", `${dir}:/b`, "--mount", `type=bind,source=${dir},target=/ro,readonly`, "busybox", "sh", "-c", "stat -c '%u %g %a' /b/owned; cat /b/owned; echo changed >> /b/owned; echo new > /b/made; echo x > /ro/nope || echo ro-refused"]);
    expect(r.stdout).toBe("1234 4321 640\nhost data\nro-refused\n");
    expect(readFileSync(join(dir, "owned"), "utf8")).toBe("host data\nchanged\n");
    expect(readFileSync(join(dir, "made"), "utf8")).toBe("new\n");
    expect(statSync(join(dir, "owned")).uid).toBe(1234);
  });

  it("a named volume keeps what one container wrote for the next; a new one is filled from the image", async () => {
    expect(await env.ok(["volume", "create", "shared"])).toBe("shared\n");
    await run(["-v", "shared:/data", "busybox", "sh", "-c", "echo written > /data/note"]);
    const r = await run(["--mount", "type=volume,source=shared,target=/other", "busybox", "cat", "/other/note"]);
    expect(r.stdout).toBe("written\n");
    // A new volume mounted where the image has files gets them (with owner and mode), once.
    const f = await run(["-v", "filled:/seed", "-u", "0", "app", "stat -c '%u %a' /seed /seed/file; cat /seed/file"]);
    expect(f.stdout).toBe("1234 750\n1234 644\nfrom-image\n");
    const [vol] = JSON.parse(await env.ok(["volume", "inspect", "filled"])) as { Name: string; Mountpoint: string; Driver: string }[];
    expect(vol!.Driver).toBe("local");
    expect(readFileSync(join(vol!.Mountpoint, "file"), "utf8")).toBe("from-image\n");
    expect((await env.ok(["volume", "ls", "-q"])).split("\n")).toEqual(expect.arrayContaining(["shared", "filled"]));
  });

  it("an image VOLUME gets an anonymous volume: removed by run --rm, kept by a named container until rm -v", async () => {
    const before = (await env.ok(["volume", "ls", "-q"])).trim().split("\n").filter(Boolean);
    const r = await run(["-u", "0", "app", "cat /seed/file; echo more > /seed/more"]);
    expect(r.stdout).toBe("from-image\n");
    expect((await env.ok(["volume", "ls", "-q"])).trim().split("\n").filter(Boolean)).toEqual(before);
    await env.tb(["run", "--network", "none", "--name", "keeper", "-u", "0", "app", "true"]);
    const after = (await env.ok(["volume", "ls", "-q"])).trim().split("\n").filter(Boolean);
    expect(after.length).toBe(before.length + 1);
    const anon = after.find((v) => !before.includes(v))!;
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    const busy = await env.tb(["volume", "rm", anon]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use by container keeper/);
    await env.ok(["rm", "-v", "keeper"]);
    expect((await env.ok(["volume", "ls", "-q"])).trim().split("\n").filter(Boolean)).toEqual(before);
  });

  it("tmpfs mounts have their size and mode and are gone after the container exits", async () => {
    const r = await env.tb(["run", "--network", "none", "--name", "tmp", "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m,tmpfs-mode=1770", "--tmpfs", "/t2:size=2m", "busybox", "sh", "-c",
      "stat -c '%a' /scratch; df -k /scratch /t2 | tail -2 | awk '{print $2}'; echo gone > /scratch/f; echo kept > /kept"]);
    expect(r.stdout).toBe("1770\n1024\n2048\n");
    const [info] = JSON.parse(await env.ok(["container", "inspect", "tmp"])) as { GraphDriver: { Data: { UpperDir: string } } }[];
    const upper = info!.GraphDriver.Data.UpperDir;
    expect(readFileSync(join(upper, "kept"), "utf8")).toBe("kept\n");
    expect(existsSync(join(upper, "scratch", "f"))).toBe(false);
    await env.ok(["rm", "tmp"]);
  });

  it("--network none has only loopback; --network host has the host's interfaces", async () => {
    const none = await run(["busybox", "sh", "-c", "ls /sys/class/net"]);
    expect(none.stdout).toBe("lo\n");
    const host = await env.tb(["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]);
    expect(host.stdout.trim().split("\n").sort()).toEqual(readdirSync("/sys/class/net").sort());
  });

  it("--read-only keeps the root filesystem unwritable (tmpfs and volumes stay writable)", async () => {
    const r = await run(["--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "touch /x 2>/dev/null || echo refused; touch /tmp/x && echo tmp-ok"]);
    expect(r.stdout).toBe("refused\ntmp-ok\n");
  });

  it("volume commands: create is idempotent, rm refuses a volume in use, prune takes anonymous ones (-a named too)", async () => {
    await env.ok(["volume", "create", "--label", "k=v", "labelled"]);
    expect(await env.ok(["volume", "create", "labelled"])).toBe("labelled\n");
    const [v] = JSON.parse(await env.ok(["volume", "inspect", "labelled"])) as { Labels: Record<string, string> }[];
    expect(v!.Labels).toEqual({ k: "v" });
    const bad = await env.tb(["volume", "create", "-d", "nfs", "x1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/only the "local" driver/);
    await env.ok(["run", "--network", "none", "--name", "user", "-v", "labelled:/l", "busybox", "true"]);
    expect((await env.tb(["volume", "rm", "labelled"])).code).toBe(1);
    await env.ok(["rm", "user"]);
    expect(await env.ok(["volume", "rm", "labelled"])).toBe("labelled\n");
    await env.ok(["run", "--network", "none", "--name", "anon", "-v", "/anon", "busybox", "true"]);
    await env.ok(["rm", "anon"]);
    const pruned = (await env.ok(["volume", "prune", "-f"])).trim().split("\n");
    expect(pruned).toHaveLength(1);
    expect(pruned[0]).toMatch(/^[0-9a-f]{64}$/);
    expect((await env.ok(["volume", "ls", "-q"])).trim().split("\n")).toEqual(expect.arrayContaining(["shared"]));
    await env.ok(["volume", "prune", "-a", "-f"]);
    expect((await env.ok(["volume", "ls", "-q"])).trim()).toBe("");
  });
});
