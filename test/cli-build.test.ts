// `tbuild build` end to end with the real builder: progress formats, the cache on a
// rebuild, -q/--iidfile, failure reports and exit codes, and every output type checked
// by skopeo/umoci or by reading the files. Needs root (the build sandbox).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool, rawEvents } from "../packages/cli/test-support/build-env.js";
import { cliMain, hasStackTrace } from "../packages/cli/test-support/run-cli.js";

let env: BuildEnv;
const dockerfile = [
  "FROM busybox",
  "ARG GREETING=hi",
  "RUN echo \"$GREETING from run\" && echo to-stderr >&2",
  "COPY hello.txt /hello.txt",
  "RUN cat /hello.txt > /copy.txt",
  'CMD ["cat", "/copy.txt"]',
  "",
].join("\n");

beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-build");
  env.write({ "app/Dockerfile": dockerfile, "app/hello.txt": "hello file\n" });
}, 300_000);
afterAll(() => env?.cleanup());

describe("tbuild build", { timeout: 300_000 }, () => {
  it("prints BuildKit's plain progress on stderr and nothing on stdout, then CACHED on a rebuild", async () => {
    const r = await env.run(["build", "--progress", "plain", "-t", "app:1", "--build-arg", "GREETING", "app"], { env: { GREETING: "hey" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^#1 \[1\/6\] FROM busybox$/m);
    expect(r.stderr).toMatch(/^#\d+ \[3\/6\] RUN echo "\$GREETING from run" && echo to-stderr >&2$/m);
    expect(r.stderr).toMatch(/^#\d+ \d+\.\d{3} hey from run$/m);
    expect(r.stderr).toMatch(/^#\d+ \d+\.\d{3} to-stderr$/m);
    expect(r.stderr).toMatch(/^#\d+ DONE \d+\.\ds$/m);
    expect(r.stderr).toMatch(/^#\d+ writing image sha256:[0-9a-f]{64} done$/m);
    expect(r.stderr).toMatch(/^#\d+ naming to docker\.io\/library\/app:1 done$/m);

    const again = await env.run(["build", "--progress", "plain", "-t", "app:1", "--build-arg", "GREETING", "app"], { env: { GREETING: "hey" } });
    expect(again.code, again.stderr).toBe(0);
    for (const step of ["[3/6] RUN", "[4/6] COPY", "[5/6] RUN"]) {
      const header = again.stderr.split("\n").find((l) => l.includes(` ${step} `));
      expect(header, `${step} in ${again.stderr}`).toMatch(/^#\d+ /);
      expect(again.stderr).toContain(`${header!.split(" ")[0]} CACHED\n`);
    }
    expect(again.stderr).not.toContain("hey from run");
  });

  it("applies --ulimit, --memory and --pids-limit to RUN steps", async () => {
    env.write({
      "limits/Dockerfile": [
        "FROM busybox",
        "RUN ulimit -n; ulimit -Hn; (i=0; while [ $i -lt 60 ]; do sleep 5 & i=$((i+1)); done) 2>&1 | head -1",
        "",
      ].join("\n"),
    });
    const r = await env.run(["build", "--progress", "plain", "--no-cache", "--ulimit", "nofile=256:512", "--pids-limit", "20", "--memory", "64m", "limits"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^#\d+ \d+\.\d{3} 256$/m);
    expect(r.stderr).toMatch(/^#\d+ \d+\.\d{3} 512$/m);
    // The 20th process cannot be made: the shell says so.
    expect(r.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    const bad = await env.run(["build", "--ulimit", "nofile=2:1", "limits"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/soft limit is above the hard limit/);
  });

  it("prints only the image ID with -q, the same as --iidfile and tbuild images", async () => {
    const r = await env.run(["build", "-q", "--iidfile", "iid.txt", "-t", "app:q", "app"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(r.stderr).toBe("");
    const id = r.stdout.trim();
    expect(readFileSync(join(env.dir, "iid.txt"), "utf8")).toBe(id);
    expect((await env.run(["images", "-q", "--no-trunc", "app"])).stdout).toContain(`${id}\n`);
  });

  it("streams one JSON event per line with --progress rawjson", async () => {
    const r = await env.run(["build", "--progress", "rawjson", "--no-cache", "app"]);
    expect(r.code, r.stderr).toBe(0);
    const events = rawEvents(r.stderr);
    const types = new Set(["build-start", "step-start", "step-miss", "step-log", "step-cached", "step-done", "step-error", "warning", "export", "build-done"]);
    for (const e of events) {
      expect(types.has(e.type), JSON.stringify(e)).toBe(true);
      expect(typeof e.time).toBe("number");
    }
    expect(events[0]!.type).toBe("build-start");
    expect(events.at(-1)!.type).toBe("build-done");
    expect(events.filter((e) => e.type === "step-done").length).toBeGreaterThanOrEqual(4);
    expect(events.some((e) => e.type === "step-log" && String(e.data).includes("hi from run"))).toBe(true);
    // Every layer step of a --no-cache build says why it ran.
    expect(events.filter((e) => e.type === "step-miss").map((e) => e.reason)).toEqual(["--no-cache", "--no-cache", "--no-cache"]);
  });

  it("draws the live view on a terminal, without colours under NO_COLOR", () => {
    if (!haveTool("script")) return;
    // A step that takes a second, so that the view is drawn (every 100 ms) before the end.
    env.write({ "slow/Dockerfile": "FROM busybox\nRUN echo working; sleep 1\n" });
    const cmd = `stty cols 100 rows 40; ${process.execPath} ${cliMain} --root ${env.root} build --no-cache -t app:tty slow`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", cwd: env.dir, env: { ...process.env, NO_COLOR: "1" }, timeout: 300_000 });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\[\+\] Building \d+\.\ds \(\d+\/\d+\) FINISHED/);
    expect(r.stdout).toMatch(/ => \[2\/2\] RUN echo working; sleep 1 +\d+\.\ds/);
    expect(r.stdout).toContain(" => => # working");
    expect(r.stdout).toContain(" => => naming to docker.io/library/app:tty done");
    expect(r.stdout).toMatch(/\x1b\[\d+A/); // redrawn in place
    expect(r.stdout).not.toMatch(/\x1b\[3\dm/); // no colours
  });

  it("reads the Dockerfile from stdin with -f -", async () => {
    const r = await env.run(["build", "-q", "-f", "-", "-t", "stdin:1", "app"], { input: "FROM busybox\nRUN echo from-stdin > /s\n" });
    expect(r.code, r.stderr).toBe(0);
    const hist = await env.run(["history", "--no-trunc", "stdin:1"]);
    expect(hist.stdout).toContain("echo from-stdin > /s");
  });
});

describe("build failures", { timeout: 300_000 }, () => {
  it("shows the failing step's output, the Dockerfile excerpt and the exit code, exit 1", async () => {
    env.write({ "fail/Dockerfile": "FROM busybox\nWORKDIR /w\nRUN echo first-line; echo second-line >&2; \\\n    exit 3\nCMD [\"sh\"]\n" });
    const r = await env.run(["build", "--progress", "plain", "fail"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toMatch(/^#\d+ ERROR: .*exit code: 3$/m);
    const report = r.stderr.slice(r.stderr.indexOf("------\n > "));
    expect(report).toMatch(/^------\n > \[3\/4\] RUN echo first-line; echo second-line >&2; +exit 3:\n/);
    expect(report).toContain("first-line\nsecond-line\n------\n");
    expect(report).toContain("fail/Dockerfile:3-4\n--------------------\n");
    expect(report).toContain("   3 | >>> RUN echo first-line; echo second-line >&2; \\\n   4 | >>>     exit 3\n   5 |     CMD [\"sh\"]");
    expect(report).toMatch(/\nERROR: .*did not complete successfully: exit code: 3\n$/);
  });

  it("reports the failure the same way with -q, and nothing on stdout", async () => {
    const r = await env.run(["build", "-q", "fail"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(" > [3/4] RUN echo first-line");
    expect(r.stderr).toContain("exit code: 3");
  });

  it("prints a Dockerfile syntax error with its position, exit 1, no stack", async () => {
    env.write({ "syntax/Dockerfile": "FROM busybox\nFROBNICATE now\n" });
    const r = await env.run(["build", "syntax"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:2:1: unknown instruction: FROBNICATE/i);
    expect(r.stderr).toContain("FROBNICATE now");
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("fails with exit 1 when the base image does not exist", async () => {
    env.write({ "nobase/Dockerfile": "FROM localhost:1/definitely/not-here:1\n" });
    const r = await env.run(["build", "--progress", "plain", "nobase"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: /m);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe("build outputs", { timeout: 300_000 }, () => {
  it("writes oci, docker, local and tar outputs that real tools accept", async () => {
    const r = await env.run([
      "build", "--progress", "plain", "-t", "out:1",
      "-o", "type=oci,dest=out/app-oci.tar",
      "-o", "type=docker,dest=out/app-docker.tar",
      "-o", "type=local,dest=out/rootfs",
      "-o", "type=tar,dest=out/rootfs.tar",
      "app",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(env.dir, "out");
    expect(readFileSync(join(out, "rootfs/copy.txt"), "utf8")).toBe("hello file\n");
    expect(existsSync(join(out, "rootfs/bin/busybox"))).toBe(true);
    expect(execFileSync("tar", ["-tf", join(out, "rootfs.tar")], { encoding: "utf8" })).toMatch(/^(\.\/)?copy\.txt$/m);
    // Outputs other than the store leave the store alone.
    expect((await env.run(["inspect", "out:1"])).code).toBe(1);

    if (haveTool("skopeo")) {
      const oci = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${join(out, "app-oci.tar")}`], { encoding: "utf8" }));
      expect(oci.Layers.length).toBeGreaterThanOrEqual(3);
      expect(oci.Architecture).toBeTruthy();
      const docker = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${join(out, "app-docker.tar")}`], { encoding: "utf8" }));
      expect(docker.Layers).toHaveLength(oci.Layers.length);
    }
    if (haveTool("umoci")) {
      const layout = join(out, "layout");
      mkdirSync(layout);
      execFileSync("tar", ["-xf", join(out, "app-oci.tar"), "-C", layout]);
      const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
      const tag = index.manifests[0].annotations["org.opencontainers.image.ref.name"];
      execFileSync("umoci", ["unpack", "--rootless", "--image", `${layout}:${tag}`, join(out, "bundle")], { stdio: "pipe" });
      expect(readFileSync(join(out, "bundle/rootfs/copy.txt"), "utf8")).toBe("hello file\n");
    }
  });
});
