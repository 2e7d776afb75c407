// `tbuild build --builder` end to end through the bundle, on Docker's embedded BuildKit:
// BuildKit's plain progress with CACHED on a rebuild, rawjson events, TBUILD_BUILDER, the
// image loaded into Docker under its tag, a failure at its Dockerfile line (exit 1), a
// malformed address (exit 2), and Ctrl-C cancelling the solve on the daemon (exit 130).
// Needs root and docker.io.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain, tbuild, tbuildSync } from "../packages/cli/test-support/run-cli.js";
import { DOCKER_BUILDER, docker, dockerPeerMissing, ensureDockerPeer } from "./support/docker-peer.js";

const missing = dockerPeerMissing();
let work: string;
let app: string;

beforeAll(() => {
  if (missing) return;
  work = mkdtempSync("/dev/shm/tbuild-cli-remote-");
  ensureDockerPeer(work);
  app = path.join(work, "app");
  mkdirSync(app);
  writeFileSync(path.join(app, "Dockerfile"), `FROM tbuild-fixture/busybox:latest\nRUN echo "built ${process.pid}-${Date.now()}"\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n`);
  writeFileSync(path.join(app, "hello.txt"), "hello remote\n");
});
afterAll(() => work && rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing)(`tbuild build --builder ${missing ? `(skipped: ${missing})` : ""}`, { timeout: 300_000 }, () => {
  it("builds with plain progress, loads the image into Docker, and prints CACHED on a rebuild", async () => {
    const args = ["build", "--builder", DOCKER_BUILDER, "--network", "none", "--progress", "plain", "-t", "tbuild-cli-remote:1", app];
    const r = await tbuild(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^#\d+ \[2\/4\] RUN echo "built .*"$/m);
    expect(r.stderr).toMatch(/^#\d+ \d+\.\d{3} built \d+-\d+$/m);
    expect(r.stderr).toMatch(/^#\d+ naming to docker\.io\/library\/tbuild-cli-remote:1 done$/m);
    expect(docker("run", "--rm", "--network", "none", "tbuild-cli-remote:1")).toBe("hello remote\n");
    const again = await tbuild(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^#\d+ \[2\/4\] RUN echo "built .*"\n#\d+ CACHED$/m);
    expect(again.stderr).toMatch(/^#\d+ \[3\/4\] COPY hello.txt \/hello.txt\n#\d+ CACHED$/m);
  });

  it("takes the builder from TBUILD_BUILDER and streams rawjson events", async () => {
    const iid = path.join(work, "iid");
    const r = await tbuild(["build", "--network", "none", "--progress", "rawjson", "--iidfile", iid, app], { env: { TBUILD_BUILDER: DOCKER_BUILDER } });
    expect(r.code, r.stderr).toBe(0);
    const types = r.stderr.trim().split("\n").map((l) => JSON.parse(l).type as string);
    expect(types[0]).toBe("build-start");
    expect(types.filter((t) => t === "step-start").length).toBe(4);
    expect(types.at(-1)).toBe("build-done");
    expect(readFileSync(iid, "utf8")).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("reports a failing RUN at its line (exit 1) and a malformed address as a usage error (exit 2)", async () => {
    const bad = path.join(work, "bad");
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, "Dockerfile"), "FROM tbuild-fixture/busybox:latest\nRUN echo nope >&2 && exit 7\n");
    const r = await tbuild(["build", "--builder", DOCKER_BUILDER, "--network", "none", "--progress", "plain", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/>>> RUN echo nope >&2 && exit 7/);
    expect(r.stderr).toMatch(/Dockerfile:2/);
    expect(r.stderr).toMatch(/exit code: 7/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const u = tbuildSync(["build", "--builder", "http://buildkitd:1234", bad]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--builder http:\/\/buildkitd:1234: expected unix:\/\/\/path, tcp:\/\/host:port/);
  });

  it("cancels the solve on the daemon on Ctrl-C", async () => {
    const marker = `${5000 + (process.pid % 1000)}`;
    const slow = path.join(work, "slow");
    mkdirSync(slow, { recursive: true });
    writeFileSync(path.join(slow, "Dockerfile"), `FROM tbuild-fixture/busybox:latest\nRUN echo started && sleep ${marker}\n`);
    const child = spawn(process.execPath, [cliMain, "build", "--builder", DOCKER_BUILDER, "--network", "none", "--progress", "plain", slow], { env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (/\d started$/m.test(stderr) && !child.killed) child.kill("SIGINT");
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    const running = () => spawnSync("pgrep", ["-f", `sleep ${marker}`]).status === 0;
    for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 200));
    expect(running()).toBe(false);
  });
});
