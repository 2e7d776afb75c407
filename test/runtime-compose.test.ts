// `tbuild compose up/down/ps/logs` (issue 18, part 4): two services, one built, on the
// project's network by service name, a healthcheck-gated depends_on, a published port
// fetched with curl on 127.0.0.1, a named volume; `down -v` leaves nothing behind. Also the
// attached `up` stopped by Ctrl-C, service_completed_successfully, and refused keys.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliMain } from "../packages/cli/test-support/run-cli.js";
import { createRuntimeEnv, type RuntimeEnv } from "./support/runtime-env.js";

let env: RuntimeEnv;
let port: number;
beforeAll(async () => {
  env = await createRuntimeEnv("tbuild-rt-compose", "172.30.55.0/24");
  port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  env.write({
    "proj/compose.yaml": `
services:
  db:
    image: busybox
    command: sh -c 'mkdir -p /www && cat /data/seed > /www/index.html 2>/dev/null || echo "db says hi" > /www/index.html; echo db-log; sleep 1; touch /ready; httpd -f -p 8000 -h /www'
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 1s
      retries: 60
    volumes:
      - data:/data
  api:
    build: ./api
    depends_on:
      db:
        condition: service_healthy
    ports:
      - "127.0.0.1:${port}:8080"
    environment:
      TARGET: db
volumes:
  data:
`,
    "proj/api/Dockerfile": 'FROM busybox\nRUN mkdir /site && echo api-page > /site/index.html\nCMD sh -c "wget -qO- http://$TARGET:8000/ && httpd -f -p 8080 -h /site"\n',
    "seq/compose.yaml": `
services:
  migrate:
    image: busybox
    command: sh -c 'echo migrated'
  app:
    image: busybox
    command: sh -c 'echo app-started; while true; do sleep 0.1; done'
    stop_grace_period: 1s
    depends_on:
      migrate:
        condition: service_completed_successfully
`,
    "bad/compose.yaml": "services:\n  x:\n    image: busybox\n    privileged: true\n",
  });
}, 300_000);
afterAll(async () => {
  if (!env) return;
  expect(await env.teardown()).toEqual([]);
  env.cleanup();
});

describe("tbuild compose", { timeout: 300_000 }, () => {
  it("up -d builds and starts two services in depends_on order; ps, logs, curl; down -v removes everything", async () => {
    const cwd = join(env.dir, "proj");
    const up = await env.tb(["compose", "up", "-d", "--progress", "quiet"], { cwd });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/Network proj_default {2}Created\nVolume proj_data {2}Created\nContainer proj-db-1 {2}Started\nContainer proj-api-1 {2}Started\n$/);
    const ps = await env.ok(["compose", "ps"], { cwd });
    expect(ps).toMatch(/^proj-db-1\s+busybox\s+db\s+Up .*\(healthy\)/m);
    expect(ps).toMatch(new RegExp(`^proj-api-1\\s+proj-api\\s+api\\s+Up .*127\\.0\\.0\\.1:${port}->8080/tcp$`, "m"));
    expect(execFileSync("curl", ["-sf", "--retry", "30", "--retry-connrefused", "--retry-delay", "0", `http://127.0.0.1:${port}/`], { encoding: "utf8" })).toBe("api-page\n");
    // api reached db by its service name before it served.
    const logs = await env.ok(["compose", "logs"], { cwd });
    expect(logs).toContain("proj-db-1   | db-log\n");
    expect(logs).toContain("proj-api-1  | db says hi\n");
    expect(await env.ok(["compose", "logs", "api"], { cwd })).toBe("proj-api-1  | db says hi\n");
    // A second up leaves the unchanged running containers alone.
    const again = await env.tb(["compose", "up", "-d"], { cwd });
    expect(again.stderr).toContain("Container proj-db-1  Running\nContainer proj-api-1  Running\n");
    expect((await env.ok(["volume", "ls", "-q"])).split("\n")).toContain("proj_data");
    const down = await env.tb(["compose", "down", "-v"], { cwd });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toBe("Container proj-api-1  Removed\nContainer proj-db-1  Removed\nNetwork proj_default  Removed\nVolume proj_data  Removed\n");
    expect(await env.ok(["ps", "-aq"])).toBe("");
    expect(await env.ok(["volume", "ls", "-q"])).toBe("");
    expect(await env.ok(["network", "ls", "-q"])).toBe("bridge\nhost\nnone\n");
    expect(await env.teardown()).toEqual([]);
  });

  it("service_completed_successfully waits for the dependency to exit 0; attached up stops the containers on Ctrl-C", async () => {
    const cwd = join(env.dir, "seq");
    const child = spawn(process.execPath, [cliMain, "--root", env.root, "compose", "up"], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TBUILD_BRIDGE_SUBNET: "172.30.55.0/24" } });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("app-started")) resolve();
    }));
    child.kill("SIGINT");
    const code = await new Promise((r) => child.on("close", r));
    expect(code).toBe(130);
    expect(out).toContain("seq-migrate-1  | migrated\n");
    expect(out).toContain("seq-app-1      | app-started\n");
    expect(err).toContain("Container seq-migrate-1  Started\nContainer seq-app-1  Started\n");
    expect(err).toContain("Gracefully stopping...");
    const ps = await env.ok(["compose", "ps", "-a"], { cwd });
    expect(ps).toMatch(/^seq-migrate-1\s+busybox\s+migrate\s+Exited \(0\)/m);
    expect(ps).toMatch(/^seq-app-1\s+busybox\s+app\s+Exited/m);
    await env.ok(["compose", "down"], { cwd });
  });

  it("keys tbuild cannot run are refused with the key's name", async () => {
    const r = await env.tb(["compose", "up", "-d"], { cwd: join(env.dir, "bad") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/services\.x\.privileged: tbuild compose up does not support this key/);
  });
});
