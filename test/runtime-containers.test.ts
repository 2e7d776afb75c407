// Containers as objects (issue 18, part 2): detached containers under a monitor, ps, logs
// [-f], stop (signal, then SIGKILL after the timeout), start, kill, rm [-f], exec, inspect,
// restart policies, and a monitor killed with -9 while its container runs. Needs root.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain } from "../packages/cli/test-support/run-cli.js";
import { createRuntimeEnv, until, type RuntimeEnv } from "./support/runtime-env.js";

let env: RuntimeEnv;
beforeAll(async () => {
  env = await createRuntimeEnv("tbuild-rt-ctr", "172.30.52.0/24");
}, 300_000);
afterAll(async () => {
  if (!env) return;
  expect(await env.teardown()).toEqual([]);
  env.cleanup();
});

const LOOP = 'trap "echo bye; exit 0" TERM; echo out; echo err >&2; while true; do sleep 0.1; done';

async function inspect(name: string) {
  return (JSON.parse(await env.ok(["container", "inspect", name])) as {
    Id: string; Name: string; RestartCount: number;
    State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string };
    Config: { Env: string[]; Cmd: string[]; Hostname: string };
    NetworkSettings: { Networks: Record<string, { IPAddress?: string; SandboxKey?: string }> };
  }[])[0]!;
}

describe("containers", { timeout: 180_000 }, () => {
  it("run -d prints the ID and returns; ps, logs and inspect show the running container", async () => {
    const id = (await env.ok(["run", "-d", "--name", "loop", "--network", "none", "-e", "GREET=hello", "busybox", "sh", "-c", LOOP])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await env.ok(["ps"]);
    expect(ps).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c trap.*"\\s+.*\\s+Up .*\\s+loop$`, "m"));
    await until(async () => (await env.tb(["logs", "loop"])).stderr === "err\n");
    const logs = await env.tb(["logs", "loop"]);
    expect(logs.stdout).toBe("out\n");
    const info = await inspect("loop");
    expect(info).toMatchObject({ Id: id, Name: "/loop", State: { Status: "running", Running: true } });
    expect(info.State.Pid).toBeGreaterThan(1);
    expect(info.Config.Env).toContain("GREET=hello");
    expect(JSON.parse(await env.ok(["inspect", "loop"]))[0].Id).toBe(id);
  });

  it("exec runs in the container's namespaces with its environment and user; its exit status is passed on", async () => {
    const r = await env.tb(["exec", "loop", "sh", "-c", "echo $GREET; hostname; cat /proc/1/cmdline | tr '\\0' ' '; exit 4"]);
    expect(r.stdout).toBe(`hello\n${(await inspect("loop")).Config.Hostname}\nsh -c ${LOOP} `);
    expect(r.code).toBe(4);
    expect((await env.tb(["exec", "-u", "65534", "-e", "X=1", "-w", "/tmp", "loop", "sh", "-c", "id -u; echo $X; pwd; echo $HOME"])).stdout).toBe("65534\n1\n/tmp\n/nonexistent\n");
    expect((await env.tb(["exec", "-i", "loop", "cat"], { input: "through stdin\n" })).stdout).toBe("through stdin\n");
    expect((await env.tb(["exec", "loop", "no-such"])).code).toBe(127);
    expect((await env.tb(["exec", "-t", "loop", "sh", "-c", "tty; echo $TERM"])).stdout).toMatch(/^\/dev\/pts\/\d+\r\nxterm\r\n$/);
  });

  it("logs -f follows until the container stops; stop sends the stop signal and the container's own exit status is kept", async () => {
    await env.ok(["exec", "loop", "sh", "-c", "echo kept > /state"]);
    const follower = spawn(process.execPath, [cliMain, "--root", env.root, "logs", "-f", "loop"], { stdio: ["ignore", "pipe", "pipe"] });
    let followed = "";
    follower.stdout.on("data", (d: Buffer) => (followed += d.toString()));
    const done = new Promise((r) => follower.on("close", r));
    expect(await env.ok(["stop", "loop"])).toBe("loop\n");
    expect(await done).toBe(0);
    expect(followed).toBe("out\nbye\n");
    const info = await inspect("loop");
    expect(info.State).toMatchObject({ Status: "exited", Running: false, ExitCode: 0, Pid: 0 });
    expect(await env.ok(["ps", "-q"])).toBe("");
    expect(await env.ok(["ps", "-aq"])).toContain(info.Id.slice(0, 12));
    expect((await env.tb(["exec", "loop", "true"])).stderr).toMatch(/is not running/);
  });

  it("start runs a stopped container again over the same writable layer", async () => {
    expect(await env.ok(["start", "loop"])).toBe("loop\n");
    expect((await env.ok(["exec", "loop", "cat", "/state"]))).toBe("kept\n");
    await until(async () => (await env.tb(["logs", "loop"])).stdout === "out\nbye\nout\n");
  });

  it("stop waits for the timeout, then kills; rm refuses a running container unless -f", async () => {
    await env.ok(["run", "-d", "--name", "stubborn", "--network", "none", "busybox", "sh", "-c", 'trap "" TERM; while true; do sleep 0.1; done']);
    await env.ok(["stop", "-t", "1", "stubborn"]);
    expect((await inspect("stubborn")).State.ExitCode).toBe(137);
    const refused = await env.tb(["rm", "loop"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is running; stop it first, or use rm -f/);
    expect(await env.ok(["rm", "-f", "loop", "stubborn"])).toBe("loop\nstubborn\n");
    expect((await env.tb(["logs", "loop"])).stderr).toMatch(/no such container: loop/);
  });

  it("a monitor killed with -9 takes its container with it: ps says so at once, rm -f cleans up", async () => {
    const id = (await env.ok(["run", "-d", "--name", "orphan", "busybox", "sh", "-c", "while true; do sleep 0.1; done"])).trim();
    const running = await inspect("orphan");
    expect(running.NetworkSettings.Networks.bridge?.IPAddress).toMatch(/^172\.30\.52\.\d+$/);
    const netns = running.NetworkSettings.Networks.bridge!.SandboxKey!;
    expect(existsSync(netns)).toBe(true);
    const state = JSON.parse(readFileSync(join(env.root, "containers", id, "state.json"), "utf8")) as { monitorPid: number; pid: number };
    process.kill(state.monitorPid, "SIGKILL");
    await until(async () => !existsSync(`/proc/${state.pid}/ns`));
    expect(await env.ok(["ps", "-q"])).toBe("");
    const after = await inspect("orphan");
    expect(after.State).toMatchObject({ Status: "exited", ExitCode: 137 });
    expect(after.State.Error).toMatch(/monitor/);
    expect(existsSync(netns)).toBe(false);
    await env.ok(["rm", "-f", "orphan"]);
  });

  it("restart policies: on-failure:N stops after N restarts; always restarts until stop", async () => {
    await env.ok(["run", "-d", "--name", "flaky", "--network", "none", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 3"]);
    await until(async () => (await inspect("flaky")).State.Status === "exited" && (await inspect("flaky")).RestartCount === 2);
    expect((await env.tb(["logs", "flaky"])).stdout).toBe("try\ntry\ntry\n");
    expect((await inspect("flaky")).State.ExitCode).toBe(3);
    await env.ok(["run", "-d", "--name", "always", "--network", "none", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2; exit 0"]);
    await until(async () => (await inspect("always")).RestartCount >= 2);
    await env.ok(["stop", "-t", "1", "always"]);
    const stopped = await inspect("always");
    expect(stopped.State.Status).toBe("exited");
    const count = stopped.RestartCount;
    expect((await inspect("always")).RestartCount).toBe(count);
    await env.ok(["rm", "flaky", "always"]);
  });

  it("names are unique; unknown containers are one error line", async () => {
    await env.ok(["run", "--name", "dup", "--network", "none", "busybox", "true"]);
    const again = await env.tb(["run", "--name", "dup", "--network", "none", "busybox", "true"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^ERROR: the container name "\/dup" is already in use/);
    await env.ok(["rm", "dup"]);
    const missing = await env.tb(["stop", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("ERROR: no such container: nope\n");
  });

  it("commit makes an image of a stopped container's changes (files, deletions, config); a running one is refused", async () => {
    await env.ok(["run", "-d", "--name", "tocommit", "--network", "none", "-w", "/app", "-e", "MODE=prod", "busybox", "sh", "-c", "echo made > /app/file; rm /bin/vi; while true; do sleep 0.1; done"]);
    const running = await env.tb(["commit", "tocommit", "committed:1"]);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/is running; stop it first/);
    await env.ok(["kill", "tocommit"]);
    const id = (await env.ok(["commit", "-m", "added a file", "-a", "tester", "-c", "LABEL stage=committed", "tocommit", "committed:1"])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await env.tb(["run", "--rm", "--network", "none", "committed:1", "sh", "-c", "pwd; cat file; echo $MODE; ls /bin/vi 2>&1"]);
    expect(r.stdout).toBe("/app\nmade\nprod\nls: /bin/vi: No such file or directory\n");
    const [img] = JSON.parse(await env.ok(["inspect", "committed:1"])) as { Id: string; Config: { Labels: Record<string, string> }; ImageConfig: { history: { comment?: string; author?: string }[] } }[];
    expect(img!.Id).toBe(id);
    expect(img!.Config.Labels).toEqual({ stage: "committed" });
    expect(img!.ImageConfig.history.at(-1)).toMatchObject({ comment: "added a file", author: "tester" });
    await env.ok(["rm", "tocommit"]);
    await env.ok(["rmi", "committed:1"]);
  });

  it("a foreground run --rm killed with -9 is removed by the next command; rmi keeps the last name of an image a container uses", async () => {
    const child = spawn(process.execPath, [cliMain, "--root", env.root, "run", "--rm", "--name", "fg", "--network", "none", "busybox", "sh", "-c", "echo up; while true; do sleep 0.1; done"], { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    expect(await env.ok(["ps", "--format", "json"])).toContain('"Names":"fg"');
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    await until(async () => (await env.ok(["ps", "-a", "-q"])) === "");
    await env.ok(["tag", "busybox", "second:1"]);
    await env.ok(["run", "--name", "user", "--network", "none", "second:1", "true"]);
    expect(await env.ok(["rmi", "second:1"])).toBe("Untagged: second:1\n");
    const refused = await env.tb(["rmi", "busybox"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unable to remove busybox:latest: container user uses it/);
    await env.ok(["rm", "user"]);
  });
});
