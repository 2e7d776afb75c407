// Networks (issue 18, part 3): the default bridge (veth per container, an address from its
// subnet, outbound NAT while containers are attached), -p publishing fetched with curl on
// 127.0.0.1, user-defined networks where containers find each other by name and alias,
// macvlan over a parent interface the test makes, and the network commands. Only 127.0.0.1
// and addresses on bridges and namespaces the test makes are contacted. Needs root.
import { execFileSync, spawnSync } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntimeEnv, until, type RuntimeEnv } from "./support/runtime-env.js";

let env: RuntimeEnv;
beforeAll(async () => {
  env = await createRuntimeEnv("tbuild-rt-net", "172.30.53.0/24");
  env.write({ "www/index.html": "<h1>hello from httpd</h1>\n" });
}, 300_000);
afterAll(async () => {
  if (!env) return;
  expect(await env.teardown()).toEqual([]);
  env.cleanup();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function inspect(name: string) {
  return (JSON.parse(await env.ok(["container", "inspect", name])) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; Gateway: string; IPPrefixLen: number }> } }[])[0]!;
}

const nat = () => execFileSync("iptables", ["-w", "-t", "nat", "-S", "POSTROUTING"], { encoding: "utf8" });

describe("networks", { timeout: 180_000 }, () => {
  it("bridge: httpd published with -p answers curl on 127.0.0.1; the container has its address, a route and outbound NAT", async () => {
    const port = await freePort();
    await env.ok(["run", "-d", "--name", "web", "-p", `127.0.0.1:${port}:80`, "-v", `${env.dir}/www:/www:ro`, "busybox", "httpd", "-f", "-h", "/www"]);
    const body = execFileSync("curl", ["-sf", "--retry", "20", "--retry-connrefused", "--retry-delay", "0", `http://127.0.0.1:${port}/`], { encoding: "utf8" });
    expect(body).toBe("<h1>hello from httpd</h1>\n");
    const net = (await inspect("web")).NetworkSettings.Networks.bridge!;
    expect(net).toMatchObject({ Gateway: "172.30.53.1", IPPrefixLen: 24 });
    expect(net.IPAddress).toMatch(/^172\.30\.53\.\d+$/);
    const inside = await env.ok(["exec", "web", "sh", "-c", "ip -o -4 addr show eth0 | awk '{print $4}'; ip route | grep default"]);
    expect(inside).toBe(`${net.IPAddress}/24\ndefault via 172.30.53.1 dev eth0 \n`);
    expect(nat()).toMatch(/-A POSTROUTING -s 172\.30\.53\.0\/24 ! -o \S+ -m comment --comment "?tbuild:\S+"? -j MASQUERADE/);
    // Outbound: the container reaches a server on the host's side of the bridge.
    const server = createHttpServer((_q, s) => s.end("host side\n"));
    await new Promise<void>((r) => server.listen(0, "172.30.53.1", r));
    const hostPort = (server.address() as { port: number }).port;
    expect(await env.ok(["exec", "web", "wget", "-qO-", `http://172.30.53.1:${hostPort}/`])).toBe("host side\n");
    await new Promise((r) => server.close(r));
    const ps = await env.ok(["ps"]);
    expect(ps).toContain(`127.0.0.1:${port}->80/tcp`);
    await env.ok(["rm", "-f", "web"]);
    expect(nat()).not.toMatch(/172\.30\.53\.0\/24/);
    // The proxy went with the container: nothing listens there any more (curl: 7, could not connect).
    expect(spawnSync("curl", ["-s", `http://127.0.0.1:${port}/`]).status).toBe(7);
  });

  it("-p …/udp relays datagrams both ways", async () => {
    execFileSync("mkdir", ["-p", `${env.dir}/udp`]);
    execFileSync("gcc", ["-static", "-O1", "-o", `${env.dir}/udp/udp-echo`, new URL("./support/probes/udp-echo.c", import.meta.url).pathname]);
    env.write({ "udp/Dockerfile": "FROM busybox\nCOPY udp-echo /udp-echo\n" });
    await env.ok(["build", "-q", "-t", "udp-echo", "udp"]);
    const port = await freePort();
    await env.ok(["run", "-d", "--name", "udp", "-p", `127.0.0.1:${port}:5353/udp`, "udp-echo", "/udp-echo", "5353"]);
    await until(async () => (await env.tb(["logs", "udp"])).stdout === "listening\n");
    const sock = createSocket("udp4");
    const reply = await new Promise<string>((resolve) => {
      sock.on("message", (m) => resolve(m.toString()));
      sock.send("ping", port, "127.0.0.1");
    });
    sock.close();
    expect(reply).toBe("echo:ping");
    await env.ok(["rm", "-f", "udp"]);
  });

  it("a port already taken is refused with a clear error and the container does not run", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const taken = (s.address() as { port: number }).port;
    const r = await env.tb(["run", "-d", "--name", "clash", "-p", `127.0.0.1:${taken}:80`, "busybox", "sleep", "5"]);
    s.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot publish 127\.0\.0\.1:\d+\/tcp: the port is already allocated/);
    expect(await env.ok(["ps", "-q"])).toBe("");
    await env.ok(["rm", "-f", "clash"]);
  });

  it("containers on a user-defined network reach each other by name and alias, both ways; the default bridge has no names", async () => {
    const id = (await env.ok(["network", "create", "--subnet", "10.231.53.0/24", "appnet"])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await env.ok(["run", "-d", "--name", "db", "--network", "appnet", "--network-alias", "database", "busybox", "sh", "-c", "cd /tmp && echo from-db > i && httpd -f -p 8000"]);
    await env.ok(["run", "-d", "--name", "app", "--network", "appnet", "busybox", "sh", "-c", "cd /tmp && echo from-app > i && httpd -f -p 8000"]);
    expect(await env.ok(["exec", "app", "wget", "-qO-", "http://db:8000/i"])).toBe("from-db\n");
    expect(await env.ok(["exec", "app", "wget", "-qO-", "http://database:8000/i"])).toBe("from-db\n");
    // db started first: its /etc/hosts was rewritten when app joined.
    expect(await env.ok(["exec", "db", "wget", "-qO-", "http://app:8000/i"])).toBe("from-app\n");
    expect((await inspect("db")).NetworkSettings.Networks.appnet!.IPAddress).toMatch(/^10\.231\.53\.\d+$/);
    const lone = await env.tb(["run", "--rm", "busybox", "sh", "-c", "wget -qO- -T 2 http://db:8000/i || echo no-name"]);
    expect(lone.stdout).toContain("no-name");
    const busy = await env.tb(["network", "rm", "appnet"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/has active endpoints \(.*db.*\)/);
    await env.ok(["rm", "-f", "db", "app"]);
    expect(await env.ok(["network", "rm", "appnet"])).toBe("appnet\n");
  });

  it("network create/ls/inspect: automatic and explicit subnets, overlaps, reserved names and the overlay driver refused", async () => {
    await env.ok(["network", "create", "auto1"]);
    const [auto] = JSON.parse(await env.ok(["network", "inspect", "auto1"])) as { Driver: string; Subnet: string; Gateway: string; IPAM: { Config: { Subnet: string }[] } }[];
    expect(auto!.Driver).toBe("bridge");
    expect(auto!.Subnet).toMatch(/^(172\.31|10\.231)\.\d+\.0\/24$/);
    expect(auto!.IPAM.Config[0]!.Subnet).toBe(auto!.Subnet);
    const overlap = await env.tb(["network", "create", "--subnet", auto!.Subnet, "auto2"]);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/overlaps the subnet/);
    const names = (await env.ok(["network", "ls", "-q"])).trim().split("\n");
    expect(names).toEqual(["bridge", "host", "none", "auto1"]);
    for (const [args, msg] of [
      [["-d", "overlay", "ov"], /swarm of Docker hosts; tbuild runs containers on this host only/],
      [["host"], /reserved/],
      [["-d", "macvlan", "mv"], /needs a parent interface: -o parent=IFACE/],
      [["--subnet", "10.0.0.1/24", "bad"], /host bits are set/],
    ] as [string[], RegExp][]) {
      const r = await env.tb(["network", "create", ...args]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
    expect((await env.tb(["network", "rm", "bridge"])).stderr).toMatch(/pre-defined network/);
    await env.ok(["network", "rm", "auto1"]);
  });

  it("macvlan over a parent interface (a veth the test makes): containers reach each other by name", async () => {
    execFileSync("ip", ["link", "add", "tbtest-mv0", "type", "veth", "peer", "name", "tbtest-mv1"]);
    try {
      execFileSync("ip", ["link", "set", "tbtest-mv0", "up"]);
      execFileSync("ip", ["link", "set", "tbtest-mv1", "up"]);
      await env.ok(["network", "create", "-d", "macvlan", "--subnet", "10.232.53.0/24", "-o", "parent=tbtest-mv0", "lan"]);
      await env.ok(["run", "-d", "--name", "mvsrv", "--network", "lan", "busybox", "sh", "-c", "cd /tmp && echo over-macvlan > i && httpd -f -p 8000"]);
      const r = await env.tb(["run", "--rm", "--network", "lan", "busybox", "sh", "-c", "ip -o -4 addr show eth0 | awk '{print $4}'; wget -qO- http://mvsrv:8000/i"]);
      expect(r.stdout).toMatch(/^10\.232\.53\.\d+\/24\nover-macvlan\n$/);
      await env.ok(["rm", "-f", "mvsrv"]);
      await env.ok(["network", "rm", "lan"]);
    } finally {
      execFileSync("ip", ["link", "del", "tbtest-mv0"]);
    }
  });
});
