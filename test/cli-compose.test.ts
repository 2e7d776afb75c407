// `tbuild compose build` on fixtures/compose: two services built at once from one
// local base image (imported as tbuild-compose-base), a third left alone; names, args
// from .env and the environment, labels, service selection. Needs root (the sandbox).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv } from "../packages/cli/test-support/build-env.js";
import { repoRoot } from "../packages/cli/test-support/run-cli.js";

const composeFile = join(repoRoot, "fixtures/compose/compose.yaml");
let env: BuildEnv;
beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-compose", ["tbuild-compose-base"]);
}, 300_000);
afterAll(() => env?.cleanup());

async function inspect(ref: string) {
  const r = await env.run(["inspect", ref]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0] as { Id: string; Config: { Labels?: Record<string, string>; Cmd?: string[] }; RootFS: { Layers: string[] } };
}

/** Reads a file of an image by flattening it with a one-line build. */
async function fileOf(image: string, path: string): Promise<string> {
  const dir = `peek-${image.replace(/[^a-z0-9]/g, "-")}`;
  env.write({ [`${dir}/Dockerfile`]: `FROM ${image}\n` });
  const r = await env.run(["build", "-q", "-o", `type=local,dest=${dir}/rootfs`, dir]);
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(join(env.dir, dir, "rootfs", path), "utf8");
}

describe("tbuild compose build", { timeout: 300_000 }, () => {
  it("builds every service with a build section, concurrently, on one store", async () => {
    const r = await env.run(["compose", "-f", composeFile, "build", "--progress", "plain"], { env: { BUILD_NOTE: "from-env" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^#\d+ \[web 1\/4\] FROM tbuild-compose-base$/m);
    expect(r.stderr).toMatch(/^#\d+ \[worker runtime 1\/7\] FROM tbuild-compose-base AS runtime$/m);
    expect(r.stderr).toMatch(/^#\d+ naming to docker\.io\/library\/compose-web:dev done$/m);
    expect(r.stderr).toMatch(/^#\d+ naming to docker\.io\/library\/compose-worker:latest done$/m);
    expect(r.stderr).toMatch(/^#\d+ naming to docker\.io\/library\/compose-worker:extra done$/m);
    expect(r.stderr).not.toMatch(/redis/);

    const names = (await env.run(["images", "--format", "json"])).stdout.trim().split("\n").map((l) => JSON.parse(l).Name as string);
    expect(names).toEqual(expect.arrayContaining([
      "docker.io/library/compose-web:dev",
      "docker.io/library/compose-worker:latest",
      "docker.io/library/compose-worker:extra",
    ]));
    expect(names.some((n) => n.includes("redis"))).toBe(false);

    // Both services start from the shared base. (Their identical first RUN may run twice when
    // the two builds reach it at the same moment, giving layers that differ in mtimes only.)
    const base = await inspect("tbuild-compose-base");
    const web = await inspect("compose-web:dev");
    const worker = await inspect("compose-worker");
    expect(web.RootFS.Layers[0]).toBe(base.RootFS.Layers[0]);
    expect(worker.RootFS.Layers[0]).toBe(base.RootFS.Layers[0]);
    expect(worker.Config.Labels?.["org.example.role"]).toBe("worker");
    expect(worker.Config.Cmd).toEqual(["/usr/local/bin/worker.sh"]);
    expect((await inspect("compose-worker:extra")).Id).toBe(worker.Id);

    // Args: GREETING from .env, BUILD_NOTE (bare list entry) from the environment.
    expect(await fileOf("compose-worker", "srv/greeting")).toBe("hello from .env\n");
    expect(await fileOf("compose-worker", "srv/note")).toBe("from-env\n");
    expect(await fileOf("compose-web:dev", "srv/index.html")).toContain("compose fixture");
  });

  it("builds only the named services, with the environment overriding .env", async () => {
    const before = await inspect("compose-web:dev");
    const r = await env.run(["compose", "-f", composeFile, "build", "--progress", "plain", "worker"], { env: { GREETING: "env wins" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\bweb\b/);
    expect(r.stderr).toMatch(/^#\d+ \[runtime 1\/7\] FROM tbuild-compose-base AS runtime$/m);
    expect(await fileOf("compose-worker", "srv/greeting")).toBe("env wins\n");
    expect((await inspect("compose-web:dev")).Id).toBe(before.Id);
  });

  it("is silent with -q and finds the compose file from a subdirectory", async () => {
    const r = await env.run(["compose", "build", "-q"], { cwd: join(repoRoot, "fixtures/compose/web") });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("");
  });

  it("reports an unknown service (exit 2) and a missing compose file (exit 1)", async () => {
    const unknown = await env.run(["compose", "-f", composeFile, "build", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tbuild compose build: no such service: nope\./);
    const missing = await env.run(["compose", "build"], { cwd: "/" });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ERROR: no compose file found in \/ or its parents/);
  });

  it("reports which service failed, with its step and excerpt, exit 1", async () => {
    env.write({
      "broken/compose.yaml": "services:\n  ok:\n    build: ./ok\n  bad:\n    build: ./bad\n",
      "broken/ok/Dockerfile": "FROM tbuild-compose-base\nRUN true\n",
      "broken/bad/Dockerfile": "FROM tbuild-compose-base\nRUN echo about to fail; exit 7\n",
    });
    const r = await env.run(["compose", "build", "--progress", "plain"], { cwd: join(env.dir, "broken") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(" > [bad 2/2] RUN echo about to fail; exit 7:");
    expect(r.stderr).toContain("about to fail");
    expect(r.stderr).toMatch(/>>> RUN echo about to fail; exit 7/);
    expect(r.stderr).toMatch(/^ERROR: bad: .*exit code: 7$/m);
    expect(r.stderr).toMatch(/^ERROR: 1 of 2 service builds failed: bad$/m);
    expect((await env.run(["inspect", "broken-ok"])).code).toBe(0);
  });
});
