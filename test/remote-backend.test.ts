// The remote backend against a real BuildKit (Docker 20.10's embedded one, through
// docker://): a rebuild is cached on the daemon, the context is sent with .dockerignore
// applied on our side (and a rebuild sends only what changed), secrets reach RUN and no
// layer, a failing RUN is reported at its Dockerfile line with its exit code, cancelling
// stops the command on the daemon, local and tar outputs come back through the session, and
// what Docker's BuildKit cannot do is refused with the reason. Needs root and docker.io.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildEvent, type BuildOptions } from "@tbuild/builder";
import { DOCKER_BUILDER, docker, dockerPeerMissing, ensureDockerPeer } from "./support/docker-peer.js";

const missing = dockerPeerMissing();
let work: string;

beforeAll(() => {
  if (missing) return;
  work = mkdtempSync("/dev/shm/tbuild-remote-");
  ensureDockerPeer(work);
});
afterAll(() => work && rmSync(work, { recursive: true, force: true }));

function context(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

async function remote(opts: Omit<BuildOptions, "builder">, onEvent?: (e: BuildEvent) => void) {
  const handle = build({ network: "none", ...opts, builder: DOCKER_BUILDER });
  const events: BuildEvent[] = [];
  const drained = (async () => {
    for await (const e of handle) {
      events.push(e);
      onEvent?.(e);
    }
  })();
  try {
    return { result: await handle.result, events };
  } finally {
    await drained;
  }
}

describe.skipIf(missing)(`remote backend on Docker's BuildKit ${missing ? `(skipped: ${missing})` : ""}`, { timeout: 300_000 }, () => {
  it("builds, and a rebuild of the same inputs is CACHED on the daemon", async () => {
    const nonce = `${process.pid}-${Date.now()}`;
    const ctx = context("cached", {
      Dockerfile: `FROM tbuild-fixture/busybox:latest\nRUN echo ${nonce} > /nonce\nCOPY f.txt /f.txt\nWORKDIR /w\nENV A=1\n`,
      "f.txt": "one\n",
    });
    const first = await remote({ context: ctx, tags: ["tbuild-remote-test/cached:1"] });
    expect(first.result.steps.filter((s) => s.step.index > 0).map((s) => [s.step.instruction.split(" ")[0], s.status])).toEqual([
      ["RUN", "ran"], ["COPY", "ran"], ["WORKDIR", "ran"], ["ENV", "metadata"],
    ]);
    const again = await remote({ context: ctx, tags: ["tbuild-remote-test/cached:1"] });
    expect(again.result.steps.filter((s) => s.step.index > 0).map((s) => s.cached)).toEqual([true, true, true, true]);
    expect(again.events.filter((e) => e.type === "step-cached").length).toBe(3);
    expect(again.result.imageId).toBe(first.result.imageId);
    expect(docker("image", "inspect", "-f", "{{.Id}}", "tbuild-remote-test/cached:1").trim()).toBe(first.result.imageId);
  });

  it("sends the context with .dockerignore applied here: of 20,000 files only the kept ones, and on a rebuild only the changed one", async () => {
    const ctx = path.join(work, "big");
    mkdirSync(path.join(ctx, "junk"), { recursive: true });
    mkdirSync(path.join(ctx, "keep"), { recursive: true });
    for (let i = 0; i < 19_900; i++) writeFileSync(path.join(ctx, "junk", `f${i}.txt`), `junk ${i}\n`);
    for (let i = 0; i < 100; i++) writeFileSync(path.join(ctx, "keep", `k${i}.txt`), `keep ${i}\n`);
    writeFileSync(path.join(ctx, ".dockerignore"), "junk\n");
    writeFileSync(path.join(ctx, "Dockerfile"), "FROM tbuild-fixture/busybox:latest\nCOPY . /ctx/\n");
    const out = path.join(work, "big-out");
    const { result } = await remote({ context: ctx, outputs: [{ type: "local", dest: out }] });
    // keep/ (100 files), .dockerignore and Dockerfile: 102 files, 103 entries with keep/ itself.
    expect(result.remote?.transfers).toEqual([{ dir: "context", entries: 103, files: 102, bytes: expect.any(Number) }]);
    expect(readdirSync(path.join(out, "ctx")).sort()).toEqual([".dockerignore", "Dockerfile", "keep"]);
    expect(readdirSync(path.join(out, "ctx/keep")).length).toBe(100);
    writeFileSync(path.join(ctx, "keep", "k7.txt"), "changed\n");
    const again = await remote({ context: ctx, outputs: [{ type: "local", dest: path.join(work, "big-out2") }] });
    expect(again.result.remote?.transfers[0]?.files).toBe(1);
    expect(readFileSync(path.join(work, "big-out2/ctx/keep/k7.txt"), "utf8")).toBe("changed\n");
  });

  it("passes secrets to RUN and to no layer", async () => {
    const value = `s3cr3t-${process.pid}-${Date.now()}`;
    const ctx = context("secret", {
      Dockerfile: [
        "FROM tbuild-fixture/busybox:latest",
        // A secret's value is not part of BuildKit's cache key: a fresh step for a fresh value.
        `RUN echo ${value.length}-${process.pid}-${Date.now()} > /nonce`,
        "RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok.sha",
        "RUN --mount=type=secret,id=tok,target=/etc/tok,uid=1000,mode=0440 stat -c '%a %u' /etc/tok > /tok.stat",
        "RUN --mount=type=secret,id=absent,required=false test ! -e /run/secrets/absent && echo skipped > /absent",
        "",
      ].join("\n"),
      "tok.txt": value,
    });
    await remote({ context: ctx, tags: ["tbuild-remote-test/secret:1"], secrets: [{ id: "tok", src: path.join(ctx, "tok.txt") }] });
    const archive = path.join(work, "secret.tar");
    docker("save", "tbuild-remote-test/secret:1", "-o", archive);
    const bytes = readFileSync(archive);
    expect(bytes.includes(Buffer.from(value))).toBe(false);
    const sha = createHash("sha256").update(value).digest("hex");
    expect(docker("run", "--rm", "--network", "none", "tbuild-remote-test/secret:1", "cat", "/tok.sha", "/tok.stat", "/absent")).toBe(`${sha}\n440 1000\nskipped\n`);
    expect(docker("run", "--rm", "--network", "none", "tbuild-remote-test/secret:1", "ls", "/run/secrets", "/etc")).not.toMatch(/tok/);
  });

  it("reports a failing RUN at its Dockerfile line with its exit code and output", async () => {
    const ctx = context("fail", { Dockerfile: "FROM tbuild-fixture/busybox:latest\nRUN echo fine\nRUN echo broken >&2; exit 3\nRUN echo never\n" });
    const err = await remote({ context: ctx }).then(() => undefined, (e: unknown) => e as Error & { step?: { line: number }; exitCode?: number; outputTail?: string[] });
    expect(err?.name).toBe("StepFailedError");
    expect(err?.step?.line).toBe(3);
    expect(err?.exitCode).toBe(3);
    expect(err?.outputTail).toContain("broken");
  });

  it("cancels the solve on the daemon when the build is aborted", async () => {
    const marker = `${4000 + (process.pid % 1000)}`;
    const ctx = context("cancel", { Dockerfile: `FROM tbuild-fixture/busybox:latest\nRUN echo started && sleep ${marker}\n` });
    const ac = new AbortController();
    const running = () => spawnSync("pgrep", ["-f", `sleep ${marker}`]).status === 0;
    const err = await remote({ context: ctx, signal: ac.signal }, (e) => {
      if (e.type === "step-log" && e.data.includes("started")) ac.abort(new Error("test cancels"));
    }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.name).toBe("BuildAbortedError");
    // The daemon kills the step's process once the solve is cancelled.
    for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 200));
    expect(running()).toBe(false);
  });

  it("writes -o type=tar through the session, and refuses -o type=oci on Docker 20.10 with the reason", async () => {
    const ctx = context("outputs", { Dockerfile: "FROM tbuild-fixture/busybox:latest\nRUN echo tarred > /t.txt\n" });
    const tar = path.join(work, "out.tar");
    await remote({ context: ctx, outputs: [{ type: "tar", dest: tar }] });
    expect(execFileSync("tar", ["-xOf", tar, "t.txt"], { encoding: "utf8" })).toBe("tarred\n");
    const err = await remote({ context: ctx, outputs: [{ type: "oci", dest: path.join(work, "x.tar") }] }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.name).toBe("BuildOptionError");
    expect(err?.message).toMatch(/has no oci exporter/);
    expect(existsSync(path.join(work, "x.tar"))).toBe(false);
  });
});

describe.skipIf(missing || !existsSync("/usr/bin/ssh-agent") || !existsSync("/usr/bin/ssh-add"))("remote backend: RUN --mount=type=ssh forwards $SSH_AUTH_SOCK through the session", { timeout: 300_000 }, () => {
  // A real ssh-agent with one key; the container reaches it through BuildKit's socket and the
  // session's SSH service. The fixture has no SSH client: the host's ssh-add (with its
  // libraries and loader, from ldd) is bind-mounted from the context and run by the loader.
  it("lists the agent's key in RUN, refuses to let RUN remove it, and skips an optional mount without an agent", async () => {
    const ctx = context("ssh", { Dockerfile: "" });
    const bin = path.join(ctx, "bin");
    mkdirSync(bin, { recursive: true });
    const libs = execFileSync("ldd", ["/usr/bin/ssh-add"], { encoding: "utf8" }).split("\n").map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter((f): f is string => !!f);
    for (const f of ["/usr/bin/ssh-add", ...libs]) writeFileSync(path.join(bin, path.basename(f)), readFileSync(f), { mode: 0o755 });
    const loader = path.basename(libs.find((l) => l.includes("ld-linux"))!);
    const sshAdd = `/x/${loader} --library-path /x /x/ssh-add`;
    const sock = path.join(work, "agent.sock");
    const agent = spawnSync("ssh-agent", ["-a", sock], { encoding: "utf8" });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tbuild-ssh-test", "-f", path.join(work, "id_test")]);
      execFileSync("ssh-add", [path.join(work, "id_test")], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "pipe" });
      process.env.SSH_AUTH_SOCK = sock;
      writeFileSync(path.join(ctx, "Dockerfile"), [
        "FROM tbuild-fixture/busybox:latest",
        `RUN echo ${process.pid}-${Date.now()} > /nonce`,
        `RUN --mount=type=bind,source=bin,target=/x --mount=type=ssh ${sshAdd} -l > /keys && echo "$SSH_AUTH_SOCK" > /sock`,
        `RUN --mount=type=bind,source=bin,target=/x --mount=type=ssh,id=default,target=/agent.sock,required SSH_AUTH_SOCK=/agent.sock ${sshAdd} -D; echo $? > /removed`,
        "",
      ].join("\n"));
      const out = path.join(work, "ssh-out");
      await remote({ context: ctx, outputs: [{ type: "local", dest: out }] });
      expect(readFileSync(path.join(out, "keys"), "utf8")).toMatch(/tbuild-ssh-test \(ED25519\)/);
      expect(readFileSync(path.join(out, "sock"), "utf8")).toBe("/run/buildkit/ssh_agent.0\n");
      expect(readFileSync(path.join(out, "removed"), "utf8")).not.toBe("0\n");
      expect(execFileSync("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: "utf8" })).toMatch(/tbuild-ssh-test/);
      // No agent: an optional mount is left out, a required one fails the step with the reason.
      delete process.env.SSH_AUTH_SOCK;
      writeFileSync(path.join(ctx, "Dockerfile"), "FROM tbuild-fixture/busybox:latest\nRUN --mount=type=ssh test ! -e /run/buildkit/ssh_agent.0 && echo none > /none\n");
      await remote({ context: ctx, outputs: [{ type: "local", dest: path.join(work, "ssh-none") }] });
      expect(readFileSync(path.join(work, "ssh-none/none"), "utf8")).toBe("none\n");
      writeFileSync(path.join(ctx, "Dockerfile"), "FROM tbuild-fixture/busybox:latest\nRUN --mount=type=ssh,required true\n");
      const err = await remote({ context: ctx }).then(() => undefined, (e: unknown) => e as Error & { step?: { line: number } });
      expect(err?.message).toMatch(/no SSH agent forwarded for id "default" \(SSH_AUTH_SOCK is not set\)/);
      expect(err?.step?.line).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      if (pid) process.kill(Number(pid));
    }
  });
});

describe.skipIf(missing)("remote backend: named build contexts", { timeout: 300_000 }, () => {
  // --build-context: a directory is one more local source the session serves under its name
  // (its own .dockerignore applied here), docker-image:// an image source, and a named
  // context wins over a stage of the same name.
  it("builds FROM a docker-image:// context and COPY/RUN --mount from a directory context", async () => {
    const extra = context("named-extra", { "a.txt": "from the named dir\n", "skip.txt": "ignored\n", ".dockerignore": "skip.txt\n" });
    const ctx = context("named", {
      Dockerfile: [
        "FROM scratch AS base",
        "FROM base",
        "COPY --from=extra . /extra/",
        "RUN --mount=from=extra,target=/m cat /m/a.txt > /via-mount",
        "",
      ].join("\n"),
    });
    const out = path.join(work, "named-out");
    const { result } = await remote({ context: ctx, buildContexts: { base: "docker-image://tbuild-fixture/busybox:latest", extra }, outputs: [{ type: "local", dest: out }] });
    expect(readdirSync(path.join(out, "extra")).sort()).toEqual([".dockerignore", "a.txt"]);
    expect(readFileSync(path.join(out, "via-mount"), "utf8")).toBe("from the named dir\n");
    expect(existsSync(path.join(out, "bin/busybox"))).toBe(true); // the base is the image, not the scratch stage
    expect(result.remote?.transfers.map((t) => t.dir).sort()).toEqual(["extra"]);
  });
});

describe.skipIf(missing)("remote backend: several --platform values", { timeout: 300_000 }, () => {
  // One conversion per target, returned as one result with a ref per platform: Docker's
  // local exporter writes a directory per platform; its moby exporter cannot load an index.
  it("writes -o type=local as a directory per platform, and refuses Docker's image store with the reason", async () => {
    const ctx = context("multi", { Dockerfile: "FROM scratch\nARG TARGETARCH\nCOPY a.txt /a-${TARGETARCH}.txt\n", "a.txt": "a\n" });
    const out = path.join(work, "multi-out");
    const events: BuildEvent[] = [];
    const { result } = await remote({ context: ctx, platform: "linux/amd64,linux/arm64", outputs: [{ type: "local", dest: out }] }, (e) => events.push(e));
    expect(readdirSync(out).sort()).toEqual(["linux_amd64", "linux_arm64"]);
    expect(readdirSync(path.join(out, "linux_arm64"))).toEqual(["a-arm64.txt"]);
    expect(readdirSync(path.join(out, "linux_amd64"))).toEqual(["a-amd64.txt"]);
    expect(result.steps.filter((s) => s.step.instruction.startsWith("COPY")).map((s) => s.step.label).sort()).toEqual(["[linux/amd64 3/3] COPY a.txt /a-${TARGETARCH}.txt", "[linux/arm64 3/3] COPY a.txt /a-${TARGETARCH}.txt"]);
    expect(events.filter((e) => (e.type === "step-done" || e.type === "step-cached") && e.step.instruction.startsWith("COPY"))).toHaveLength(2);
    const err = await remote({ context: ctx, platform: "linux/amd64,linux/arm64", tags: ["tbuild-remote-test/multi:1"] }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.name).toBe("BuildOptionError");
    expect(err?.message).toMatch(/Docker 20\.10's embedded BuildKit loads one image into Docker's store, not an index/);
  });
});

describe.skipIf(missing)("remote backend: the daemon's own cache import and export", { timeout: 300_000 }, () => {
  // --cache-to type=inline: Docker's BuildKit writes its cache metadata into the config of
  // the image it loads; --cache-from type=registry: the daemon asks the registry for the
  // cache image (a stand-in registry on 127.0.0.1 records what it is asked and has nothing).
  it("exports inline cache into the loaded image's config and asks the registry of a --cache-from", async () => {
    const http = await import("node:http");
    const asked: string[] = [];
    const registry = http.createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.writeHead(404, { "content-type": "application/json", "docker-distribution-api-version": "registry/2.0" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
    });
    await new Promise<void>((r) => registry.listen(0, "127.0.0.1", () => r()));
    const port = (registry.address() as { port: number }).port;
    try {
      const ctx = context("daemoncache", { Dockerfile: `FROM tbuild-fixture/busybox:latest\nRUN echo ${process.pid}-${Date.now()} > /n\n` });
      await remote({ context: ctx, tags: ["tbuild-remote-test/inline:1"], cacheTo: [{ type: "inline" }], cacheFrom: [{ type: "registry", ref: `127.0.0.1:${port}/cache/app:latest` }] });
      const archive = path.join(work, "inline.tar");
      docker("save", "tbuild-remote-test/inline:1", "-o", archive);
      const manifest = JSON.parse(execFileSync("tar", ["-xOf", archive, "manifest.json"], { encoding: "utf8" })) as { Config: string }[];
      const config = JSON.parse(execFileSync("tar", ["-xOf", archive, manifest[0]!.Config], { encoding: "utf8" })) as Record<string, unknown>;
      expect(typeof config["moby.buildkit.cache.v0"]).toBe("string");
      expect(asked.some((a) => a.includes("/v2/cache/app/manifests/latest"))).toBe(true);
    } finally {
      registry.close();
    }
    const err = await remote({ context: context("daemoncache2", { Dockerfile: "FROM tbuild-fixture/busybox:latest\n" }), cacheTo: [{ type: "registry", ref: "127.0.0.1:5000/c:1" }] }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/Docker 20\.10's embedded BuildKit exports only inline cache/);
  });
});

describe.skipIf(missing)("remote backend: a local cache import through Docker's session", { timeout: 300_000 }, () => {
  // An OCI layout holding a cache in BuildKit's index form (an index listing the cache config;
  // no records here, so no hits): Docker 20.10's BuildKit reads the index and the config through
  // the session's content store, which the blobs' access times show (tmpfs, relatime: a file's
  // first read after it was written moves its atime).
  it("--cache-from type=local: the daemon reads the layout's cache index and config through the session", async () => {
    const dir = path.join(work, "local-cache");
    const blob = (text: string) => {
      const hex = createHash("sha256").update(text).digest("hex");
      mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
      writeFileSync(path.join(dir, "blobs", "sha256", hex), text);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(text), file: path.join(dir, "blobs", "sha256", hex) };
    };
    const config = blob(JSON.stringify({ layers: [], records: [] }));
    const index = blob(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.buildkit.cacheconfig.v0", digest: config.digest, size: config.size }] }));
    writeFileSync(path.join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: index.digest, size: index.size, annotations: { "org.opencontainers.image.ref.name": "latest" } }] }));
    const { statSync } = await import("node:fs");
    const atime = (f: string) => statSync(f, { bigint: true }).atimeNs;
    const before = [atime(index.file), atime(config.file)];
    await new Promise((r) => setTimeout(r, 20));
    const ctx = context("localcache", { Dockerfile: `FROM tbuild-fixture/busybox:latest\nRUN echo ${process.pid}-${Date.now()} > /n\n` });
    const { result, events } = await remote({ context: ctx, outputs: [{ type: "local", dest: path.join(work, "localcache-out") }], cacheFrom: [{ type: "local", src: dir }] });
    expect(events.filter((e) => e.type === "warning")).toEqual([]);
    expect(result.steps.find((s) => s.step.instruction.startsWith("RUN"))?.status).toBe("ran");
    expect(atime(index.file)).toBeGreaterThan(before[0]!);
    expect(atime(config.file)).toBeGreaterThan(before[1]!);
  });
});

describe.skipIf(missing)("remote backend: what BuildKit 0.8 lacks, refused by the capabilities the daemon reports", { timeout: 300_000 }, () => {
  // Docker 20.10's BuildKit answers LLBBridge.Ping without file.copy.includeexcludepatterns,
  // exec.validexitcode (asked for a symbolic --chmod), exec.secretenv or exec.meta.ulimit: each step needing one is refused
  // at its line before anything runs, and the daemon's build ends (the next build works).
  it.each([
    ["COPY --exclude=*.md . /src/", /^COPY --exclude needs the BuildKit LLB capability file\.copy\.includeexcludepatterns \(BuildKit v0\.9 or newer\), which the daemon at docker:\/\/unix:\/\/\/tmp\/dockerd\.sock does not report/, {}],
    ["COPY --parents a.txt /src/", /^COPY --parents needs the BuildKit LLB capability file\.copy\.includeexcludepatterns/, {}],
    ["COPY --chmod=u+x a.txt /a", /^--chmod=u\+x \(a symbolic mode\) needs the BuildKit LLB capability exec\.validexitcode \(BuildKit v0\.17 or newer; it stands for the copy's modeStr/, {}],
    ["RUN --mount=type=secret,id=tok,env=TOK true", /^RUN --mount=type=secret,env=TOK needs the BuildKit LLB capability exec\.secretenv/, {}],
    ["RUN true", /^--ulimit needs the BuildKit LLB capability exec\.meta\.ulimit/, { ulimits: [{ name: "nofile", soft: 1024, hard: 1024 }] }],
  ] as const)("%s", async (line, message, extra) => {
    const ctx = context(`caps-${line.length}-${line.charCodeAt(4)}`, { Dockerfile: `FROM tbuild-fixture/busybox:latest\n${line}\n`, "a.txt": "a\n" });
    const err = await remote({ context: ctx, ...extra }).then(() => undefined, (e: unknown) => e as Error & { step?: { line: number } });
    expect(err?.name).toBe("StepError");
    expect(err?.message).toMatch(message);
    expect(err?.step?.line).toBe(2);
    const ok = await remote({ context: context("caps-after", { Dockerfile: "FROM tbuild-fixture/busybox:latest\nRUN true\n" }) });
    expect(ok.result.steps).toHaveLength(2);
  });
});

describe.skipIf(missing)("remote backend: a buildkitd address (unix://)", { timeout: 300_000 }, () => {
  // No buildkitd runs here; Docker's BuildKit serves the same Control API, so a relay that
  // upgrades each connection to its /grpc stands in for buildkitd's socket. The session then
  // goes through Control.Session (buildkitd's way), not Docker's /session endpoint.
  it("builds through Control.Session and gets -o type=local back through the session", async () => {
    const { createServer } = await import("node:net");
    const { dockerUpgrade } = await import("@tbuild/llb");
    const sock = path.join(work, "relay.sock");
    const relay = createServer((c) => {
      c.on("error", () => c.destroy());
      dockerUpgrade("/tmp/dockerd.sock", "/grpc").then((u) => {
        c.pipe(u).pipe(c);
        // Either end may go first: a write to the other then fails (EPIPE), which ends both.
        c.on("close", () => u.destroy()).on("error", () => u.destroy());
        u.on("close", () => c.destroy()).on("error", () => c.destroy());
      }, () => c.destroy());
    }).listen(sock);
    try {
      const ctx = context("viaunix", { Dockerfile: "FROM scratch\nCOPY a.txt /a.txt\nCOPY <<EOF /b.txt\nfrom a heredoc\nEOF\n", "a.txt": "via unix\n" });
      const out = path.join(work, "viaunix-out");
      const handle = build({ context: ctx, builder: `unix://${sock}`, outputs: [{ type: "local", dest: out }] });
      const result = await handle.result;
      expect(result.remote?.transfers[0]).toMatchObject({ dir: "context", files: 2 });
      expect(readFileSync(path.join(out, "a.txt"), "utf8")).toBe("via unix\n");
      expect(readFileSync(path.join(out, "b.txt"), "utf8")).toBe("from a heredoc\n");
    } finally {
      relay.close();
    }
  });
});

describe.skipIf(missing || !existsSync("/usr/bin/docker-registry") || !existsSync("/usr/bin/htpasswd"))("remote backend: registry credentials through the session", { timeout: 300_000 }, () => {
  // The daemon pulls the base image from a registry that requires a password; it asks the
  // session's Auth service, which answers from DOCKER_CONFIG (as the docker CLI would).
  it("pulls a base image from an htpasswd registry with the credentials of docker's config", async () => {
    const { startRegistry } = await import("./support/registry.js");
    const reg = await startRegistry({ auth: { username: "ci", password: "s3cret" } });
    const saved = process.env.DOCKER_CONFIG;
    try {
      const config = path.join(work, "docker-config");
      mkdirSync(config, { recursive: true });
      writeFileSync(path.join(config, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from("ci:s3cret").toString("base64") } } }));
      const ref = `${reg.host}/fixture/busybox:auth`;
      docker("tag", "tbuild-fixture/busybox:latest", ref);
      execFileSync("/usr/bin/docker", ["--config", config, "-H", "unix:///tmp/dockerd.sock", "push", ref], { stdio: "pipe" });
      docker("rmi", ref); // the build must pull it
      process.env.DOCKER_CONFIG = config;
      const ctx = context("authbase", { Dockerfile: `FROM ${ref}\nRUN echo pulled > /p\n` });
      const out = path.join(work, "authbase-out");
      const { result } = await remote({ context: ctx, outputs: [{ type: "local", dest: out }] });
      expect(readFileSync(path.join(out, "p"), "utf8")).toBe("pulled\n");
      // The tag resolves only through the password-protected registry (removed locally above):
      // that is the credentials at work. Its layers may be known to the daemon already (the same
      // fixture's content, from other builds), so FROM may be reported cached rather than pulled.
      expect(["ran", "cached"]).toContain(result.steps[0]?.status);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      await reg.stop();
    }
  });
});

describe.skipIf(missing || !existsSync("/usr/bin/openssl"))("remote backend: a buildkitd address over TCP with mutual TLS", { timeout: 300_000 }, () => {
  // A TLS endpoint in front of the same BuildKit (each accepted connection relayed to
  // Docker's /grpc) stands in for `buildkitd --addr tcp://… --tlscacert … --tlscert … --tlskey …`:
  // the client must present a certificate signed by the CA, and checks the server's.
  it("builds through tcp://host:port,cacert=…,cert=…,key=… and is refused without a client certificate", async () => {
    const tls = await import("node:tls");
    const { dockerUpgrade } = await import("@tbuild/llb");
    const pki = path.join(work, "pki");
    mkdirSync(pki, { recursive: true });
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: pki, stdio: "pipe" });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=tbuild-test-ca");
    writeFileSync(path.join(pki, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    for (const who of ["server", "client"]) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/CN=${who}`);
      ssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${who}.pem`, "-days", "1", "-extfile", "san.ext");
    }
    const read = (f: string) => readFileSync(path.join(pki, f));
    const server = tls.createServer({ key: read("server.key"), cert: read("server.pem"), ca: read("ca.pem"), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ["h2"] }, (c) => {
      c.on("error", () => c.destroy());
      dockerUpgrade("/tmp/dockerd.sock", "/grpc").then((u) => {
        c.pipe(u).pipe(c);
        // Either end may go first: a write to the other then fails (EPIPE), which ends both.
        c.on("close", () => u.destroy()).on("error", () => u.destroy());
        u.on("close", () => c.destroy()).on("error", () => c.destroy());
      }, () => c.destroy());
    });
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const ctx = context("viatls", { Dockerfile: "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "via tls\n" });
      const addr = `tcp://127.0.0.1:${port}`;
      const out = path.join(work, "viatls-out");
      await build({ context: ctx, builder: `${addr},cacert=${pki}/ca.pem,cert=${pki}/client.pem,key=${pki}/client.key`, outputs: [{ type: "local", dest: out }] }).result;
      expect(readFileSync(path.join(out, "a.txt"), "utf8")).toBe("via tls\n");
      const err = await build({ context: ctx, builder: `${addr},cacert=${pki}/ca.pem`, outputs: [{ type: "local", dest: path.join(work, "viatls-x") }] }).result.then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(/cannot reach BuildKit at tcp:\/\/127\.0\.0\.1/);
    } finally {
      server.close();
    }
  });
});
