// `tbuild build --cache-to/--cache-from` and compose's cache_from/cache_to, end to end with
// the bundled CLI: runner A exports, runner B (another store) imports and reruns nothing.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool } from "../packages/cli/test-support/build-env.js";
import { tbuild } from "../packages/cli/test-support/run-cli.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";

let env: BuildEnv;
let reg: RunningRegistry;
let base: string;

beforeAll(async () => {
  haveTool("docker-registry");
  reg = await startRegistry();
  env = await createBuildEnv("tbuild-cli-cache");
  base = `${reg.host}/lib/busybox:1`;
  expect((await env.run(["tag", "busybox:latest", base])).code).toBe(0);
  expect((await env.run(["push", base])).code).toBe(0);
  env.write({
    "app/Dockerfile": `FROM ${base}\nCOPY a.txt /a.txt\nRUN cp /a.txt /b.txt\n`,
    "app/a.txt": "hello\n",
    "compose/compose.yaml": [
      "services:",
      "  web:",
      "    build:",
      "      context: ../app",
      `      cache_from: ["type=registry,ref=${reg.host}/cache/web:1"]`,
      `      cache_to: ["type=registry,ref=${reg.host}/cache/web:1,mode=max"]`,
      "",
    ].join("\n"),
  });
}, 300_000);
afterAll(async () => {
  await reg?.stop();
  env?.cleanup();
});

describe("--cache-to / --cache-from", { timeout: 300_000 }, () => {
  it("a second runner imports the cache and every step is CACHED", async () => {
    const ref = `${reg.host}/cache/app:1`;
    const a = await env.run(["build", "--progress", "plain", "--cache-to", `type=registry,ref=${ref},mode=max`, "app"]);
    expect(a.code, a.stderr).toBe(0);
    const rootB = join(env.dir, "runner-b");
    const b = await tbuild(["--root", rootB, "build", "--progress", "plain", "--cache-from", ref, join(env.dir, "app")], { cwd: env.dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/COPY a\.txt \/a\.txt\n#\d+ CACHED/);
    expect(b.stderr).toMatch(/RUN cp \/a\.txt \/b\.txt\n#\d+ CACHED/);
  });

  it("compose build honours cache_from and cache_to", async () => {
    const a = await env.run(["compose", "build"], { cwd: join(env.dir, "compose") });
    expect(a.code, a.stderr).toBe(0);
    const b = await tbuild(["--root", join(env.dir, "runner-c"), "compose", "build", "--progress", "plain", "--explain-cache"], { cwd: join(env.dir, "compose") });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/RUN cp \/a\.txt \/b\.txt\n#\d+ CACHED/);
    // --explain-cache: the service's table names where each hit came from.
    expect(b.stdout).toMatch(/^web:\n/);
    expect(b.stdout).toMatch(/RUN cp \/a\.txt \/b\.txt\s+hit\s+cache import/);
  });

  it("a bad spec is a usage error", async () => {
    const r = await env.run(["build", "--cache-to", "type=gha", "app"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cache-to: cache type "gha" is not supported (use registry, local, inline)');
  });
});
