// Where a push sends each blob, decided as `docker push` decides with its distribution
// metadata: the store records which repositories of a registry hold which blobs (from its
// pulls and pushes). A layer built here and never pushed is uploaded without asking first
// (no HEAD); a blob another repository holds is mounted from it; a blob the target holds
// already (pushed before) is checked and skipped. Requests go through a recording proxy in
// front of a real docker-registry, which also counts connections: a push reuses a few
// keep-alive connections instead of opening one per request. Needs root (sandbox).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool } from "../packages/cli/test-support/build-env.js";
import { tbuild } from "../packages/cli/test-support/run-cli.js";
import { startFaultProxy, type FaultProxy } from "./support/fault-proxy.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";

let env: BuildEnv;
let reg: RunningRegistry;
let proxy: FaultProxy;

beforeAll(async () => {
  haveTool("docker-registry");
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.host);
  env = await createBuildEnv("tbuild-push-records");
  env.write({ "app/Dockerfile": "FROM busybox\nRUN echo one > /one.txt\nRUN echo two > /two.txt\nCOPY . /ctx/\n", "app/f.txt": "f\n" });
  const r = await env.run(["build", "-q", "-t", "app:1", "app"]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 300_000);
afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  env?.cleanup();
});

/** Pushes `ref` from `root`, returning the requests the registry saw, by method. */
async function push(root: string, ref: string) {
  const first = proxy.requests.length;
  const conns = proxy.connections;
  const r = await tbuild(["--root", root, "push", ref]);
  expect(r.code, r.stderr).toBe(0);
  const seen = proxy.requests.slice(first);
  const count = (re: RegExp) => seen.filter((q) => re.test(q)).length;
  return {
    blobs: /blobs: .*/.exec(r.stderr)?.[0],
    heads: count(/^HEAD \/v2\/.*\/blobs\//),
    mounts: count(/^POST .*[?&]mount=/),
    uploads: count(/^PUT .*\/blobs\/uploads\//),
    requests: seen.length,
    connections: proxy.connections - conns,
  };
}

describe("push records", { timeout: 300_000 }, () => {
  it("uploads built layers without asking, mounts them elsewhere from the records, checks them when pushing again", async () => {
    // busybox (1 layer) + 3 built layers + config: 5 blobs, none of which the registry has seen.
    const one = `${proxy.host}/one/app:1`;
    expect((await env.run(["tag", "app:1", one])).code).toBe(0);
    const first = await push(env.root, one);
    expect(first.blobs).toBe("blobs: 5 uploaded, 0 already present, 0 mounted");
    expect(first.heads).toBe(0);
    expect(first.uploads).toBe(5);
    // Keep-alive: the ping, five blobs at a time on reused connections, the manifest.
    expect(first.requests).toBe(1 + 5 * 2 + 1);
    expect(first.connections).toBeLessThanOrEqual(6);
    expect(readdirSync(join(env.root, "registry-blobs"))).toHaveLength(1);

    // Under another name only: the records alone say one/app holds every blob.
    const two = `${proxy.host}/two/app:1`;
    expect((await env.run(["tag", "app:1", two])).code).toBe(0);
    expect((await env.run(["rmi", one])).code).toBe(0);
    const second = await push(env.root, two);
    expect(second.blobs).toBe("blobs: 0 uploaded, 0 already present, 5 mounted");
    expect(second.mounts).toBe(5);
    expect(second.uploads + second.heads).toBe(0);

    // The same push again: the records say two/app holds them; each is checked, none sent.
    const third = await push(env.root, two);
    expect(third.blobs).toBe("blobs: 0 uploaded, 5 already present, 0 mounted");
    expect(third.heads).toBe(5);
    expect(third.uploads).toBe(0);
  });

  it("a pull is a record too: a fresh store's image built on the pulled one mounts the base and uploads only its own layer", async () => {
    const fresh = join(env.dir, "fresh");
    const base = `${proxy.host}/two/app:1`;
    expect((await tbuild(["--root", fresh, "pull", base])).code).toBe(0);
    env.write({ "onpulled/Dockerfile": `FROM ${base}\nRUN echo three > /three.txt\n` });
    const target = `${proxy.host}/three/on:1`;
    const b = await tbuild(["--root", fresh, "build", "-q", "-t", target, "onpulled"], { cwd: env.dir });
    expect(b.code, b.stderr).toBe(0);
    // Untag the base: the pull's record, not the name, must place its blobs in two/app.
    expect((await tbuild(["--root", fresh, "rmi", base])).code).toBe(0);
    const r = await push(fresh, target);
    expect(r.blobs).toBe("blobs: 2 uploaded, 0 already present, 4 mounted");
    expect(r.heads).toBe(0);
  });
});
