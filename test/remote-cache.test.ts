// The travelling cache: runner A builds and exports its cache (registry, local layout,
// inline); runner B, with an empty store, imports it and reuses every step without
// running one, producing the same image. Two stores on one machine stand for two CI
// runners; Debian's docker-registry on 127.0.0.1 stands for the registry.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildEvent, type BuildOptions, type BuildResult } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";
import { startRegistry, type RunningRegistry } from "./support/registry.js";
import { startFaultProxy, type FaultProxy } from "./support/fault-proxy.js";
import { Store } from "@tbuild/cache";
import { pushMultiarchBase } from "./support/multiarch-base.js";

const SDE = { SOURCE_DATE_EPOCH: "1700000000" };

describe("cache export and import", () => {
  let env: BuildEnv;
  let registry: RunningRegistry;
  let base: string;
  let stores = 0;
  beforeAll(async () => {
    env = await makeBuildEnv();
    registry = await startRegistry();
    base = `${registry.host}/lib/busybox:1`;
    await env.run({ context: env.context({ Dockerfile: "FROM busybox\n" }), outputs: [{ type: "registry", name: base }] });
  });
  afterAll(async () => {
    await registry?.stop();
    env?.dispose();
  });

  const freshStore = () => path.join(env.work, `runner-${stores++}`);
  const run = async (opts: BuildOptions): Promise<{ result: BuildResult; events: BuildEvent[] }> => {
    const events: BuildEvent[] = [];
    const h = build(opts);
    for await (const e of h) events.push(e);
    return { result: await h.result, events };
  };
  const dockerfile = () => `FROM ${base} AS deps
COPY deps.txt /deps.txt
RUN cp /deps.txt /installed && echo deps >> /installed
FROM ${base}
COPY --from=deps /installed /installed
COPY app.txt /app.txt
RUN cat /installed /app.txt > /result
`;
  const project = (app = "app v1\n") => env.context({ Dockerfile: dockerfile(), "deps.txt": "deps v1\n", "app.txt": app });
  const layerSteps = (r: BuildResult) => r.steps.filter((s) => s.status !== "metadata" && s.step.index > 0);
  const ran = (r: BuildResult) => r.steps.filter((s) => s.status === "ran").map((s) => s.step.instruction);

  it("type=registry,mode=max: a fresh store reuses every step and makes the same image", async () => {
    const ref = `${registry.host}/cache/app:max`;
    const ctx = project();
    const a = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref, mode: "max" }] });
    // skopeo reads the cache as an index whose last entry is BuildKit's cache config.
    const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" }));
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(raw.manifests.at(-1).mediaType).toBe("application/vnd.buildkit.cacheconfig.v0");
    expect(raw.manifests.slice(0, -1).every((m: { annotations?: Record<string, string> }) => m.annotations?.["containerd.io/uncompressed"]?.startsWith("sha256:"))).toBe(true);

    const rootB = freshStore();
    const b = await run({ context: ctx, root: rootB, buildArgs: SDE, cacheFrom: [{ type: "registry", ref }] });
    expect(ran(b.result)).toEqual([]);
    // Lazy: no step ran, no output needs bytes, so no layer of the cache was fetched.
    const store = await Store.open(rootB);
    for (const m of raw.manifests.slice(0, -1)) expect(await store.hasBlob(m.digest)).toBe(false);
    await store.close();
    expect(layerSteps(b.result).every((s) => s.cached)).toBe(true);
    expect(b.events.filter((e) => e.type === "step-cached").every((e) => e.type === "step-cached" && e.source === "import")).toBe(true);
    expect(b.result.imageId).toBe(a.result.imageId);
  });

  it("a changed context file on runner B reruns exactly the steps that depend on it", async () => {
    const ref = `${registry.host}/cache/app:change`;
    await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref, mode: "max" }] });
    const out = path.join(env.work, "changed-out");
    const b = await run({ context: project("app v2\n"), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref }], outputs: [{ type: "local", dest: out }] });
    expect(ran(b.result)).toEqual(["COPY app.txt /app.txt", "RUN cat /installed /app.txt > /result"]);
    expect(readFileSync(path.join(out, "result"), "utf8")).toBe("deps v1\ndeps\napp v2\n");
    // Why they ran: runner B has no record of its own to compare with.
    const reasons = b.events.flatMap((e) => (e.type === "step-miss" ? [`${e.step.instruction}: ${e.reason}`] : []));
    expect(reasons).toEqual(["COPY app.txt /app.txt: imported cache has no entry", expect.stringMatching(/^RUN cat .*: parent changed \(step /)]);
  });

  it("mode=min exports only the final image's steps: the deps stage is not in it", async () => {
    const ref = `${registry.host}/cache/app:min`;
    const ctx = project();
    await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref }] });
    const b = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref }] });
    // The deps stage's steps are not in the final image: they run again on runner B.
    expect(ran(b.result)).toEqual(["COPY deps.txt /deps.txt", "RUN cp /deps.txt /installed && echo deps >> /installed"]);
  });

  it("type=local: an OCI layout directory carries the cache", async () => {
    const dir = path.join(env.work, "local-cache");
    const ctx = project();
    const a = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "local", dest: dir, mode: "max" }] });
    const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8"));
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("latest");
    const b = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "local", src: dir }], tags: ["app:local"] });
    expect(ran(b.result)).toEqual([]);
    expect(b.result.imageId).toBe(a.result.imageId);
  });

  it("type=inline: the pushed image carries its cache, and --cache-from IMAGE reuses it", async () => {
    const image = `${registry.host}/app/inline:1`;
    const ctx = project();
    const a = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "inline" }], outputs: [{ type: "registry", name: image }] });
    expect(a.result.config).toHaveProperty(["moby.buildkit.cache.v0"]);
    const b = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: image }], cacheTo: [{ type: "inline" }], outputs: [{ type: "registry", name: `${registry.host}/app/inline:2` }] });
    // Inline cache holds the final image's steps (mode=min): the deps stage runs again.
    expect(ran(b.result)).toEqual(["COPY deps.txt /deps.txt", "RUN cp /deps.txt /installed && echo deps >> /installed"]);
    expect(b.events.filter((e) => e.type === "step-cached" && e.step.stage !== "deps").every((e) => e.type === "step-cached" && e.source === "inline")).toBe(true);
    expect(b.result.imageId).toBe(a.result.imageId);
  });

  it("a local cache whose index names a path outside its blobs is refused (warning, normal build)", async () => {
    const dir = mkdtempSync(path.join(env.work, "evil-cache-"));
    writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: "sha256:../../../../etc/shadow", size: 10 }] }));
    const b = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "local", src: dir }] });
    expect(b.events.some((e) => e.type === "warning" && e.message.includes("is not a sha256 digest"))).toBe(true);
    expect(ran(b.result).filter((i) => !i.startsWith("FROM"))).toHaveLength(5);
  });

  it("a missing cache source is a warning and a normal build", async () => {
    const ctx = project();
    const b = await run({ context: ctx, root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: `${registry.host}/cache/none:1` }] });
    expect(b.events.some((e) => e.type === "warning" && /importing cache from .*none:1 failed/.test(e.message))).toBe(true);
    expect(ran(b.result).filter((i) => !i.startsWith("FROM"))).toHaveLength(5);
  });

  describe("through a proxy that counts and breaks requests", () => {
    let proxy: FaultProxy;
    const ref = () => `${registry.host}/cache/app:proxied`;
    const viaProxy = () => `${proxy.host}/cache/app:proxied`;
    beforeAll(async () => {
      proxy = await startFaultProxy(registry.host);
      await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref: ref(), mode: "max" }] });
    });
    afterAll(async () => {
      await proxy?.close();
    });
    const layerGets = () => proxy.requests.filter((r) => /^GET \/v2\/.*\/blobs\//.test(r));

    it("a fully cached build reads the cache index and its config, and no layer", async () => {
      proxy.requests.length = 0;
      proxy.fault = () => undefined;
      const b = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: viaProxy() }] });
      expect(ran(b.result)).toEqual([]);
      expect(proxy.requests.filter((r) => r.includes("/manifests/"))).toEqual(["GET /v2/cache/app/manifests/proxied"]);
      expect(layerGets()).toHaveLength(1); // the cache config
    });

    it("a step that must run fetches only the layers it runs on", async () => {
      proxy.requests.length = 0;
      proxy.fault = () => undefined;
      const b = await run({ context: project("app v3\n"), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: viaProxy() }] });
      expect(ran(b.result)).toEqual(["COPY app.txt /app.txt", "RUN cat /installed /app.txt > /result"]);
      // config + the COPY --from layer the rerun COPY sits on (the base comes from its own repository).
      expect(layerGets()).toHaveLength(2);
    });

    it.each([
      ["a 500 on the cache index", (r: { method?: string; url?: string }) => (r.url?.includes("/manifests/") ? { status: 500 } : undefined)],
      ["a 401 on the cache index", (r: { method?: string; url?: string }) => (r.url?.includes("/manifests/") ? { status: 401 } : undefined)],
    ] as const)("%s is a warning and a normal build", async (_name, fault) => {
      proxy.fault = fault as FaultProxy["fault"];
      const out = path.join(env.work, `fault-out-${stores}`);
      const b = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: viaProxy() }], outputs: [{ type: "local", dest: out }] });
      expect(b.events.some((e) => e.type === "warning" && e.message.startsWith(`importing cache from ${viaProxy()} failed`))).toBe(true);
      expect(ran(b.result).filter((i) => !i.startsWith("FROM"))).toHaveLength(5);
      expect(readFileSync(path.join(out, "result"), "utf8")).toBe("deps v1\ndeps\napp v1\n");
    });

    it("a layer cut short mid-build is a warning, and the build is made again without the cache", async () => {
      // The first blob read is the cache config; every layer after it is cut short.
      proxy.fault = (r) => (r.method === "GET" && /\/blobs\//.test(r.url ?? "") && layerGets().length > 1 ? "truncate" : undefined);
      proxy.requests.length = 0;
      const out = path.join(env.work, "truncated-out");
      const b = await run({ context: project("app v4\n"), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref: viaProxy() }], outputs: [{ type: "local", dest: out }] });
      expect(b.events.some((e) => e.type === "warning" && /fetching layer .* failed.*building again without the imported cache/.test(e.message))).toBe(true);
      expect(readFileSync(path.join(out, "result"), "utf8")).toBe("deps v1\ndeps\napp v4\n");
    });

    it("a failed export fails the build; with ignore-error=true it is a warning", async () => {
      proxy.fault = (r) => (r.method === "PUT" && r.url?.includes("/manifests/") ? { status: 500 } : undefined);
      const to = `${proxy.host}/cache/app:broken`;
      const h = build({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref: to }] });
      await expect(h.result).rejects.toThrow(`exporting cache to ${to} failed`);
      const b = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref: to, ignoreError: true }] });
      expect(b.events.some((e) => e.type === "warning" && e.message.includes("ignore-error=true"))).toBe(true);
    });
  });

  it("an image pushed to the cache's registry mounts the cached layers: none is fetched", async () => {
    const ref = `${registry.host}/cache/app:push`;
    await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref, mode: "max" }] });
    const rootB = freshStore();
    const pushed = `${registry.host}/app/pushed:1`;
    const b = await run({ context: project(), root: rootB, buildArgs: SDE, cacheFrom: [{ type: "registry", ref }], outputs: [{ type: "registry", name: pushed }] });
    expect(ran(b.result)).toEqual([]);
    const store = await Store.open(rootB);
    const pushedManifest = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${pushed}`], { encoding: "utf8" }));
    for (const l of pushedManifest.layers) expect(await store.hasBlob(l.digest)).toBe(false);
    await store.close();
    // The pushed image is whole: a build in another store runs on it.
    const out = path.join(env.work, "pushed-out");
    await run({ context: env.context({ Dockerfile: `FROM ${pushed}\nRUN cp /result /seen\n` }), root: freshStore(), outputs: [{ type: "local", dest: out }] });
    expect(readFileSync(path.join(out, "seen"), "utf8")).toBe("deps v1\ndeps\napp v1\n");
  });

  it("a two-platform build exports one cache for both targets; a fresh store reuses every step of both", async () => {
    const multi = pushMultiarchBase(registry.host, "lib/busybox-multi:1");
    const ref = `${registry.host}/cache/multi:1`;
    const ctx = env.context({ Dockerfile: `FROM ${multi}\nARG TARGETARCH\nCOPY a.txt /a.txt\nRUN echo "$TARGETARCH $(uname -m)" > /arch\n`, "a.txt": "a\n" });
    const platform = "linux/amd64,linux/arm64";
    const a = await run({ context: ctx, root: freshStore(), buildArgs: SDE, platform, cacheTo: [{ type: "registry", ref, mode: "max" }] });
    expect(ran(a.result).filter((i) => i.startsWith("RUN"))).toHaveLength(2);
    const b = await run({ context: ctx, root: freshStore(), buildArgs: SDE, platform, cacheFrom: [{ type: "registry", ref }] });
    expect(ran(b.result)).toEqual([]);
    // The same images (config digests); the store's manifests list B's imported layers by
    // their compressed blobs and A's built ones uncompressed, so only the IDs compare.
    expect(b.result.index?.manifests.map((m) => m.imageId)).toEqual(a.result.index?.manifests.map((m) => m.imageId));
  });

  describe("a registry with htpasswd auth", () => {
    let authReg: RunningRegistry;
    const saved = process.env.DOCKER_CONFIG;
    beforeAll(async () => {
      authReg = await startRegistry({ auth: { username: "ci", password: "s3cret" } });
    });
    afterAll(async () => {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      await authReg?.stop();
    });
    const dockerConfig = (auths: Record<string, unknown>) => {
      const dir = mkdtempSync(path.join(env.work, "docker-config-"));
      writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths }));
      return dir;
    };

    it("exports and imports with the credentials of docker's config; without them it warns and builds", async () => {
      const ref = `${authReg.host}/cache/app:auth`;
      process.env.DOCKER_CONFIG = dockerConfig({ [authReg.host]: { auth: Buffer.from("ci:s3cret").toString("base64") } });
      await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheTo: [{ type: "registry", ref, mode: "max" }] });
      const b = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref }] });
      expect(ran(b.result)).toEqual([]);
      process.env.DOCKER_CONFIG = dockerConfig({});
      const c = await run({ context: project(), root: freshStore(), buildArgs: SDE, cacheFrom: [{ type: "registry", ref }] });
      expect(c.events.some((e) => e.type === "warning" && e.message.startsWith(`importing cache from ${ref} failed`))).toBe(true);
      expect(ran(c.result).filter((i) => !i.startsWith("FROM"))).toHaveLength(5);
    });
  });
});
