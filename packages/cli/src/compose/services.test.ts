import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadComposeProject } from "./project.js";
import { planServiceRuns, projectResources, splitCommand } from "./services.js";

const dirs: string[] = [];
function project(yaml: string) {
  const dir = mkdtempSync("/dev/shm/tbuild-services-");
  dirs.push(dir);
  writeFileSync(join(dir, "compose.yaml"), yaml);
  const p = loadComposeProject({ file: join(dir, "compose.yaml"), projectName: "demo", env: {} });
  return { p, res: projectResources(p), dir };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("compose up planning", () => {
  it("names, depends_on order, volumes, ports, networks and healthchecks as compose does", () => {
    const { p, res, dir } = project(`
services:
  web:
    build: .
    command: sh -c 'echo "a b" c'
    depends_on:
      db: { condition: service_healthy }
    ports: ["127.0.0.1:8080:80", { target: 443, published: "8443", protocol: tcp }]
    volumes: ["./site:/www:ro", "data:/data", { type: tmpfs, target: /t, tmpfs: { size: 1m } }]
    networks:
      back: { aliases: [www] }
  db:
    image: busybox
    healthcheck: { test: "true", interval: 2s, retries: 5 }
    networks: [back]
volumes:
  data:
networks:
  back:
    ipam: { config: [{ subnet: 10.9.0.0/24 }] }
`);
    const runs = planServiceRuns(p, res);
    expect(runs.map((r) => r.service)).toEqual(["db", "web"]);
    const [db, web] = runs;
    expect(db).toMatchObject({ containerName: "demo-db-1", image: "busybox", network: "demo_back", aliases: ["db"], healthcheck: { test: ["CMD-SHELL", "true"], intervalMs: 2000, retries: 5 } });
    expect(web).toMatchObject({
      image: "demo-web",
      build: true,
      command: ["sh", "-c", 'echo "a b" c'],
      ports: ["127.0.0.1:8080:80", "8443:443/tcp"],
      volumes: [`${dir}/site:/www:ro`, "demo_data:/data"],
      tmpfs: ["/t:size=1m"],
      aliases: ["web", "www"],
      dependsOn: [{ service: "db", condition: "service_healthy" }],
      labels: { "com.docker.compose.project": "demo", "com.docker.compose.service": "web" },
    });
    expect(res.networks.get("back")).toMatchObject({ name: "demo_back", subnet: "10.9.0.0/24", create: true });
    expect(planServiceRuns(p, res, ["db"]).map((r) => r.service)).toEqual(["db"]);
    expect(planServiceRuns(p, res, ["web"]).map((r) => r.service)).toEqual(["db", "web"]);
  });

  it("refuses what it cannot run: unknown keys, undeclared volumes, cycles, several networks", () => {
    const bad = (yaml: string, msg: RegExp) => {
      const { p, res } = project(yaml);
      expect(() => planServiceRuns(p, res)).toThrow(msg);
    };
    bad("services:\n  a:\n    image: x\n    privileged: true\n", /services\.a\.privileged: tbuild compose up does not support this key/);
    bad("services:\n  a:\n    image: x\n    volumes: [v:/v]\n", /volume "v", which is not declared/);
    bad("services:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [a] }\n", /cycle: a, b/);
    bad("networks: { n1: {}, n2: {} }\nservices:\n  a: { image: x, networks: [n1, n2] }\n", /exactly one network/);
    bad("services:\n  a: { image: x, depends_on: [nope] }\n", /undefined service nope/);
  });

  it("splits string commands like a shell", () => {
    expect(splitCommand(`sh -c 'echo $A "b"' "c d" e\\ f ""`)).toEqual(["sh", "-c", 'echo $A "b"', "c d", "e f", ""]);
    expect(() => splitCommand("echo 'x")).toThrow(/unterminated quote/);
  });
});
