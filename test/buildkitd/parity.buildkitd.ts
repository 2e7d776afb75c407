// The remote backend against a real, current buildkitd — not part of the default suite (CI has
// no buildkitd): run it with `TBUILD_BUILDKITD=unix:///run/buildkit/buildkitd.sock npm run
// test:buildkitd`. It fails, never skips, when the daemon is missing.
//
// Each case builds the same Dockerfile twice, with tbuild's local build and with `--builder`
// on the daemon, both exported as OCI archives, and compares what a Dockerfile controls: the
// config, the history and the flattened file tree (path, type, mode, owner, size, content
// digest, link target) — test/support/image-tree.mjs, the differential suite's reader. The
// Dockerfiles are those of the converter's goldens (remote-backend/convert/goldens) run for
// real, and the features newer than Docker 20.10's BuildKit 0.8 that the capability check
// refuses there. Base images come from a registry this test starts (127.0.0.1 is plain HTTP
// for BuildKit's resolver, util/resolver/resolver.go: docker.MatchLocalhost).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildOptions } from "@tbuild/builder";
import { createHash } from "node:crypto";
import grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { connectControl, control, grpcDefinition, methodPath, newId, ops, parseBuilderAddress, startSession } from "@tbuild/llb";
import { llbCapsOf, returnError } from "../../packages/builder/src/remote-backend/frontend.js";
import { makeBuildEnv, repo, type BuildEnv } from "../support/build-env.js";
import { startRegistry, type RunningRegistry } from "../support/registry.js";
import { multiarchLayout, pushMultiarchBase } from "../support/multiarch-base.js";
import { describeArchive, describeDir, diffDescriptions, layerBytes } from "./compare.js";
import { flattenLayers } from "../support/image-tree.mjs";

const BUILDER = process.env.TBUILD_BUILDKITD;
if (!BUILDER) throw new Error("TBUILD_BUILDKITD is not set: give the address of a buildkitd (unix:///…, tcp://…), e.g. TBUILD_BUILDKITD=unix:///run/buildkit/buildkitd.sock npm run test:buildkitd");

let env: BuildEnv;
let reg: RunningRegistry;
let base: string;
let http: Server;
let httpBase: string;
let out: string;

beforeAll(async () => {
  env = await makeBuildEnv();
  out = mkdtempSync("/dev/shm/tbuild-bk-parity-");
  reg = await startRegistry();
  base = `${reg.host}/library/busybox:latest`;
  const cli = (...args: string[]) => execFileSync("node", [path.join(repo, "packages/cli/bundle/main.js"), "--root", env.root, ...args], { stdio: "pipe" });
  cli("tag", "busybox:latest", base);
  cli("push", base);
  http = createServer((req, res) => {
    if (req.url === "/files/tool.txt") res.end("a tool\n");
    else if (req.url === "/files/data.tar") res.end(readFileSync(path.join(out, "data.tar")));
    else res.writeHead(404).end();
  });
  mkdirSync(path.join(out, "tarsrc/d"), { recursive: true });
  writeFileSync(path.join(out, "tarsrc/d/in-tar.txt"), "from a tar\n");
  execFileSync("tar", ["-C", path.join(out, "tarsrc"), "--owner=0", "--group=0", "-cf", path.join(out, "data.tar"), "d"]);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpBase = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await reg?.stop();
  env?.dispose();
  if (out) rmSync(out, { recursive: true, force: true });
});

interface Case {
  files: Record<string, string>;
  dockerfile: string;
  opts?: Partial<BuildOptions>;
  /** Modes to set on context files (octal), after writing them. */
  modes?: Record<string, number>;
}

let n = 0;
/** Every capability caps.ts asks for (all are reported by a current buildkitd). */
const CAPS_NEWER_THAN_08: string[] = Object.values(ops.caps);
/** Builds `c` locally and on the daemon, both to OCI archives; returns the two archive paths. */
async function both(c: Case): Promise<{ local: string; remote: string }> {
  const ctx = env.context({ ...c.files, Dockerfile: c.dockerfile.replaceAll("$BASE", base).replaceAll("$HTTP", httpBase) });
  for (const [f, m] of Object.entries(c.modes ?? {})) execFileSync("chmod", [m.toString(8), path.join(ctx, f)]);
  const id = n++;
  const local = path.join(out, `${id}-local.tar`);
  const remote = path.join(out, `${id}-remote.tar`);
  const opts = { context: ctx, network: "none" as const, ...c.opts };
  const l = await env.run({ ...opts, outputs: [{ type: "oci", dest: local }] });
  const h = build({ ...opts, builder: BUILDER!, outputs: [{ type: "oci", dest: remote }] });
  for await (const _ of h) void _;
  const r = await h.result;
  // Every step is reported, as locally: the daemon's Control.Status names each step's vertex.
  const ids = (steps: { step: { id: string } }[]) => steps.map((s) => s.step.id).sort();
  expect(ids(r.steps)).toEqual(ids(l.result.steps));
  return { local, remote };
}

/** Builds both ways and expects no difference in config, history or files (every platform). */
async function same(c: Case): Promise<{ local: string; remote: string }> {
  const r = await both(c);
  const [l, m] = await Promise.all([describeArchive(r.local), describeArchive(r.remote)]);
  expect(diffDescriptions(l, m)).toEqual([]);
  return r;
}

describe(`remote backend on the buildkitd at ${BUILDER}: the same image as a local build`, { timeout: 300_000 }, () => {
  it("the daemon reports the capabilities Docker 20.10's BuildKit lacks (LLBBridge.Ping), and they are enabled", async () => {
    const conn = connectControl(parseBuilderAddress(BUILDER!));
    const session = await (async () => {
      await conn.ready(10_000);
      return startSession(conn, { dirs: new Map(), secrets: [], sharedKey: "tbuild-caps-check" });
    })();
    try {
      // The bridge answers for a running job: a Solve without definition, whose frontend is this client.
      const ref = newId();
      const solved = conn.solve(create(control.SolveRequestSchema, { Ref: ref, Session: session.id }));
      solved.catch(() => {});
      const bridge = conn.bridge(ref);
      const caps = await llbCapsOf(bridge);
      // End the job with an error (a Return without result or error crashes buildkitd v0.32: gateway.go Return reads in.Result).
      await returnError(bridge, new Error("capabilities checked"));
      await expect(solved).rejects.toThrow(/capabilities checked/);
      expect([...caps].filter((c) => CAPS_NEWER_THAN_08.includes(c)).sort()).toEqual([...CAPS_NEWER_THAN_08].sort());
    } finally {
      session.close();
      conn.close();
    }
  });

  it("basic golden: ARG/ENV, WORKDIR, COPY --chown --chmod of a file and a directory, a heredoc, USER, RUN, CMD", async () => {
    await same({
      files: { "a.txt": "a\n", "b/one.txt": "one\n", "b/sub/two.txt": "two\n" },
      dockerfile: `FROM $BASE\nARG V=1\nENV A=$V\nWORKDIR app\nCOPY --chown=1000:100 --chmod=640 a.txt b/ ./\nCOPY <<EOF /etc/inline.txt\nhello\nEOF\nUSER 1000\nRUN echo "$A" > /tmp/x\nCMD ["sh"]\n`,
    });
  });

  it("copy-options golden: --exclude, --parents (a path and a /./ pivot with a wildcard), symbolic and octal --chmod", async () => {
    await same({
      files: {
        "src/main.c": "int main;\n", "src/README.md": "r\n", "src/tmp/junk": "j\n", "src/sub/x.md": "x\n", "src/sub/y.c": "y\n",
        "a/b/c.txt": "c\n", "a/b/other.txt": "o\n", "x/y/p.go": "package p\n", "x/y/q.go": "package q\n", "x/y/r.txt": "r\n", "x/y/z/s.go": "package s\n",
        "bin/run": "#!/bin/sh\necho run\n", "tools/t.sh": "t\n", "tools/t.bak": "b\n", "tools/d/u": "u\n",
      },
      modes: { "bin/run": 0o640, "tools/t.sh": 0o600 },
      dockerfile: `FROM $BASE\nWORKDIR /app\nCOPY --exclude=*.md --exclude=tmp/ src/ ./\nCOPY --parents a/b/c.txt x/./y/*.go /out/\nCOPY --chmod=u+x,go=rX bin/run /usr/local/bin/\nCOPY --chmod=0755 --exclude=*.bak tools/ /tools/\n`,
    });
  });

  it("symbolic --chmod on a directory tree (X only for directories and executables), and +x / a-w", async () => {
    await same({
      files: { "d/f": "f\n", "d/x": "x\n", "d/s/g": "g\n", "one": "1\n" },
      modes: { "d/x": 0o700, "d/f": 0o664 },
      dockerfile: `FROM $BASE\nCOPY --chmod=go=rX d /d1/\nCOPY --chmod=+x one /one-x\nCOPY --chmod=a-w,u+w d /d2\nCOPY --chmod=u=rwx,g=,o= one /one-u\n`,
    });
  });

  it("mounts golden: cache mounts (id, sharing, uid/gid/mode), secret, tmpfs size, bind from a stage and the context (rw)", async () => {
    const secret = path.join(out, "tok.txt");
    writeFileSync(secret, "s3cret-tok\n");
    await same({
      files: { "ctx/in.txt": "in\n" },
      opts: { secrets: [{ id: "tok", src: secret }] },
      dockerfile:
        "FROM $BASE AS tools\nRUN mkdir /bin2 && echo tool > /bin2/t\n\nFROM $BASE\n" +
        "RUN --network=none --mount=type=cache,target=/root/.cache,id=pip,sharing=locked --mount=type=cache,target=/c2,uid=1000,gid=100,mode=0750 --mount=type=secret,id=tok --mount=type=tmpfs,target=/scratch,size=64m --mount=type=bind,from=tools,source=/bin2,target=/t --mount=type=bind,source=ctx,target=/ctx,rw " +
        "sh -c 'mkdir /out; stat -c \"%a %u:%g %n\" /c2 /root/.cache /run/secrets/tok > /out/stat; cat /t/t > /out/tool; grep -c s3cret /run/secrets/tok > /out/secret-found; " +
        "df -k /scratch | tail -1 | tr -s \" \" | cut -d\" \" -f2 > /out/tmpfs-kb; echo rw > /ctx/written; ls /ctx > /out/ctx-ls; mount | grep -c \" /scratch \" > /out/tmpfs-mounted'\n" +
        "RUN ls /ctx > /out/after 2>&1 || echo gone > /out/after\n",
    });
  });

  it("multistage golden: COPY --from a stage, ADD of a URL (and --unpack of a tar), LABEL, into scratch", async () => {
    await same({
      files: {},
      dockerfile: `FROM $BASE AS build\nWORKDIR /src\nRUN echo built > out.txt\n\nFROM scratch\nCOPY --from=build /src/out.txt /out.txt\nADD $HTTP/files/tool.txt /opt/\nADD --unpack=true $HTTP/files/data.tar /unpacked/\nADD --chmod=0600 $HTTP/files/tool.txt /opt/tool-600\nLABEL stage=final\n`,
    });
  });

  it("named-contexts golden: a docker-image:// base and COPY --from source, a directory context (its own .dockerignore) for COPY --from and RUN --mount", async () => {
    const src = path.join(out, "named-src");
    mkdirSync(path.join(src, "sub"), { recursive: true });
    writeFileSync(path.join(src, "a.txt"), "named a\n");
    writeFileSync(path.join(src, "skip.txt"), "ignored\n");
    writeFileSync(path.join(src, ".dockerignore"), "skip.txt\n");
    writeFileSync(path.join(src, "sub/b.txt"), "b\n");
    await same({
      files: { "a.txt": "the context's a\n" },
      opts: { buildContexts: { base: `docker-image://${base}`, src, tools: `docker-image://${base}` } },
      dockerfile: "FROM base\nCOPY --from=src a.txt /a\nRUN --mount=from=src,target=/s ls -a /s > /s-ls && cat /s/a.txt > /s-a\nCOPY --from=tools /bin/busybox /bin/tool\n",
    });
  });

  it("run-options golden: secrets as environment variables (with and without a target), --ulimit", async () => {
    const tok = path.join(out, "env-tok.txt");
    writeFileSync(tok, "env-secret-value");
    const cfg = path.join(out, "cfg.txt");
    writeFileSync(cfg, "cfg-secret-value");
    await same({
      files: {},
      opts: { secrets: [{ id: "tok", src: tok }, { id: "cfg", src: cfg }], ulimits: [{ name: "nofile", soft: 1024, hard: 2048 }] },
      dockerfile:
        "FROM $BASE\nRUN --mount=type=secret,id=tok,env=TOKEN --mount=type=secret,id=cfg,env=CFG,target=/etc/cfg " +
        "sh -c 'mkdir /out; [ \"$TOKEN\" = env-secret-value ] && echo tok-ok > /out/tok; [ \"$CFG\" = cfg-secret-value ] && echo cfg-env-ok > /out/cfg; cat /etc/cfg > /dev/null && echo cfg-file-ok >> /out/cfg; ulimit -n > /out/nofile-soft; ulimit -Hn > /out/nofile-hard'\n" +
        "RUN --mount=type=secret,id=missing,env=NONE sh -c 'echo \"[${NONE-unset}]\" > /out/optional'\n" +
        "RUN --mount=type=secret,source=cfg sh -c 'ls /run/secrets > /out/by-source; cat /run/secrets/cfg >/dev/null && echo read >> /out/by-source'\n",
    });
  });

  it("a secret reaches RUN (file and env) and no layer", async () => {
    const value = `secret-${process.pid}-${Date.now()}`;
    const file = path.join(out, "nolayer.txt");
    writeFileSync(file, value);
    const r = await same({
      files: {},
      opts: { secrets: [{ id: "s", src: file }] },
      dockerfile: `FROM $BASE\nRUN --mount=type=secret,id=s --mount=type=secret,id=s,env=S sh -c '[ "$(cat /run/secrets/s)" = "$S" ] && [ -n "$S" ] && echo seen > /seen'\n`,
    });
    for (const tar of [r.local, r.remote]) {
      expect((await describeArchive(tar)).get("linux/amd64")!.tree.find((e) => e[0] === "seen")?.[6]).toBeTruthy();
      for (const layer of await layerBytes(tar)) expect(layer.includes(value)).toBe(false);
    }
  });

  it("--ulimit with unlimited and several limits", async () => {
    await same({
      files: {},
      opts: { ulimits: [{ name: "nofile", soft: 4096, hard: 4096 }, { name: "core", soft: "unlimited", hard: "unlimited" }, { name: "nproc", soft: 2000, hard: 3000 }] },
      dockerfile: "FROM $BASE\nRUN sh -c 'ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc; ulimit -u; ulimit -Hu' > /limits\n",
    });
  });

  it("tmpfs size= is the mount's size", async () => {
    const r = await same({
      files: {},
      dockerfile: "FROM $BASE\nRUN --mount=type=tmpfs,target=/t,size=8m sh -c 'df -k /t | tail -1 | tr -s \" \" | cut -d\" \" -f2 > /size; touch /t/gone'\nRUN ls -la /t > /t-ls 2>&1 || echo absent > /t-ls\n",
    });
    const tree = (await describeArchive(r.remote)).get("linux/amd64")!.tree;
    expect(tree.find((e) => e[0] === "size")).toBeTruthy();
  });

  it("several --platform values: one image per platform, the same on both sides", async () => {
    const multi = pushMultiarchBase(reg.host);
    const r = await same({
      files: { "f.txt": "f\n" },
      opts: { platforms: ["linux/amd64", "linux/arm64"] },
      dockerfile: `FROM ${multi}\nARG TARGETARCH\nRUN uname -m > /uname && echo $TARGETARCH > /arch\nCOPY f.txt /\n`,
    });
    const d = await describeArchive(r.remote);
    expect([...d.keys()].sort()).toEqual(["linux/amd64", "linux/arm64"]);
    // Both platforms export their layers into one local cache at once: the session's content
    // store lets one writer hold a ref and tells the other to retry (content-store.ts).
    // -o type=local of both: a directory per platform, absolute symlinks moved under it (fsutil SubDirFS).
    const cache = path.join(out, "multi-cache");
    const ctx = env.context({ "f.txt": "f\n", Dockerfile: `FROM ${multi}\nRUN uname -m > /uname\nCOPY f.txt /\n` });
    const h = build({ context: ctx, network: "none", builder: BUILDER!, platforms: ["linux/amd64", "linux/arm64"], noCache: true, outputs: [{ type: "local", dest: path.join(out, "multi-local-remote") }], cacheTo: [{ type: "local", dest: cache, mode: "max" }] });
    for await (const _ of h) void _;
    await h.result;
    expect(JSON.parse(readFileSync(path.join(cache, "index.json"), "utf8")).manifests).toHaveLength(1);
    await env.run({ context: ctx, network: "none", platforms: ["linux/amd64", "linux/arm64"], outputs: [{ type: "local", dest: path.join(out, "multi-local-local") }] });
    expect(describeDir(path.join(out, "multi-local-remote"))).toEqual(describeDir(path.join(out, "multi-local-local")));
  });
  it("metadata instructions, RUN heredocs (one with #!), SHELL, --chown by name, a relative WORKDIR, ONBUILD, STOPSIGNAL, HEALTHCHECK, VOLUME, EXPOSE", async () => {
    await same({
      files: { "a.txt": "a\n" },
      dockerfile: [
        "FROM $BASE",
        "RUN echo 'app:x:1234:4321::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:4321:' >> /etc/group",
        "WORKDIR srv",
        "WORKDIR sub",
        "COPY --chown=app:app a.txt .",
        "ENV GREETING=hi PATH=/opt/bin:$PATH",
        "RUN <<EOF",
        "echo $GREETING > /heredoc1",
        "pwd >> /heredoc1",
        "EOF",
        "RUN <<EOF",
        "#!/bin/sh -e",
        "echo script \"$0\" > /heredoc2",
        "EOF",
        'SHELL ["/bin/sh", "-e", "-c"]',
        "RUN echo shell > /shell",
        "USER app",
        "RUN id > /tmp/id",
        "LABEL a=b c=\"d e\"",
        "EXPOSE 8080/tcp 53/udp",
        "VOLUME /data",
        "STOPSIGNAL SIGTERM",
        'HEALTHCHECK --interval=5s CMD ["true"]',
        "ONBUILD RUN echo child",
        'ENTRYPOINT ["/bin/sh"]',
        'CMD ["-c", "true"]',
        "",
      ].join("\n"),
    });
  });

  it("-o type=tar: the same tarball of the root filesystem", async () => {
    const ctx = env.context({ "f.txt": "f\n", Dockerfile: `FROM ${base}\nCOPY --chmod=600 f.txt /f\nRUN mkdir -p /x/y && ln -s ../f /x/rel\n` });
    const dest = { local: path.join(out, "t-local.tar"), remote: path.join(out, "t-remote.tar") };
    await env.run({ context: ctx, network: "none", outputs: [{ type: "tar", dest: dest.local }] });
    const h = build({ context: ctx, network: "none", builder: BUILDER!, outputs: [{ type: "tar", dest: dest.remote }] });
    for await (const _ of h) void _;
    await h.result;
    const rows = async (f: string) => [...(await flattenLayers([readFileSync(f)])) as Map<string, unknown>].map(([p, e]) => JSON.stringify([p, e])).sort();
    expect(await rows(dest.remote)).toEqual(await rows(dest.local));
  });

  it("-o type=local: the files come back through the session with their modes (setuid, setgid, sticky), owners and contents, as a local build writes them", async () => {
    const ctx = env.context({ "f.txt": "f\n", Dockerfile: `FROM ${base}\nCOPY --chown=7:8 f.txt /owned\nRUN cp /bin/busybox /suid && chmod 4755 /suid && mkdir -m 2775 /sgid && mkdir -m 1777 /sticky && ln -s /owned /link\n` });
    const dest = { local: path.join(out, "lo-local"), remote: path.join(out, "lo-remote") };
    await env.run({ context: ctx, network: "none", outputs: [{ type: "local", dest: dest.local }] });
    const h = build({ context: ctx, network: "none", builder: BUILDER!, outputs: [{ type: "local", dest: dest.remote }] });
    for await (const _ of h) void _;
    await h.result;
    const local = describeDir(dest.local);
    expect(describeDir(dest.remote)).toEqual(local);
    expect(local.filter((r) => /^(tmp|suid|sgid|sticky|owned|link) /.test(r)).map((r) => r.split(" ").slice(0, 4).join(" "))).toEqual(["link symlink 0777 0:0", "owned file 0644 7:8", "sgid dir 2775 0:0", "sticky dir 1777 0:0", "suid file 4755 0:0", "tmp dir 1777 0:0"]);
  });

  it("--build-context name=oci-layout://DIR:TAG: FROM, COPY --from and RUN --mount from= a layout the daemon reads through the session", async () => {
    const layout = multiarchLayout("busybox");
    await same({
      files: { "f.txt": "f\n" },
      opts: { buildContexts: { base: `oci-layout://${layout}:latest`, other: `oci-layout://${layout}:latest` } },
      dockerfile: "FROM base\nCOPY --from=other /bin/busybox /other-busybox\nRUN --mount=from=other,target=/o ls /o/bin | head -3 > /o-ls\nCOPY f.txt /\n",
    });
  });

  it("--cache-to type=local writes an OCI layout the daemon fills through the session; after the daemon's own records are pruned, --cache-from type=local makes every step cached", async () => {
    const nonce = `tbuild-local-cache-${process.pid}-${Date.now()}`;
    const ctx = env.context({ Dockerfile: `FROM ${base}\nRUN echo ${nonce} > /one\nRUN echo ${nonce} two > /two\n` });
    const dir = path.join(out, "local-cache");
    const run = async (o: Partial<BuildOptions>) => {
      const h = build({ context: ctx, network: "none", builder: BUILDER!, outputs: [{ type: "oci", dest: path.join(out, `lc-${n++}.tar`) }], ...o });
      for await (const _ of h) void _;
      return h.result;
    };
    const first = await run({ cacheTo: [{ type: "local", dest: dir, mode: "max", tag: "t1" }] });
    expect(first.steps.filter((s) => s.step.index > 0).map((s) => s.cached)).toEqual([false, false]);
    const index = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "t1")!;
    expect(entry).toBeTruthy();
    const blob = (d: string) => readFileSync(path.join(dir, "blobs", ...d.split(":")));
    // Every blob the daemon wrote is whole: its name is its digest.
    const cacheIndex = JSON.parse(blob(entry.digest).toString()) as { manifests?: { digest: string; mediaType: string }[]; layers?: { digest: string; mediaType: string }[]; config?: { digest: string; mediaType: string } };
    const refs = [...(cacheIndex.manifests ?? []), ...(cacheIndex.layers ?? []), ...(cacheIndex.config ? [cacheIndex.config] : [])];
    expect(refs.some((d) => d.mediaType === "application/vnd.buildkit.cacheconfig.v0")).toBe(true);
    for (const d of [entry, ...refs]) expect(`sha256:${createHash("sha256").update(blob(d.digest)).digest("hex")}`).toBe(d.digest);
    expect(readdirSync(dir).sort()).toEqual(["blobs", "index.json", "oci-layout"]);

    await pruneDaemon(nonce);
    const cold = await run({});
    expect(cold.steps.filter((s) => s.step.index > 0).map((s) => s.cached)).toEqual([false, false]);
    await pruneDaemon(nonce);
    const warm = await run({ cacheFrom: [{ type: "local", src: dir, tag: "t1" }] });
    expect(warm.steps.filter((s) => s.step.index > 0).map((s) => s.cached)).toEqual([true, true]);
  });

  it("--cache-from type=local of a missing tag is a warning and a normal build", async () => {
    const ctx = env.context({ Dockerfile: `FROM ${base}\nRUN true\n` });
    const h = build({ context: ctx, network: "none", builder: BUILDER!, outputs: [{ type: "oci", dest: path.join(out, "missing-tag.tar") }], cacheFrom: [{ type: "local", src: path.join(out, "local-cache"), tag: "nope" }] });
    const warnings: string[] = [];
    for await (const e of h) if (e.type === "warning") warnings.push(e.message);
    await h.result;
    expect(warnings.join("\n")).toMatch(/local cache import at .*local-cache skipped: no digest found for tag nope/);
  });
});

/** Removes the daemon's cache records whose description holds `text` (Control.Prune with a filter), so a rebuild cannot hit them. */
async function pruneDaemon(text: string): Promise<void> {
  const addr = parseBuilderAddress(BUILDER!);
  if (addr.kind !== "buildkitd" || addr.tls) throw new Error(`pruning needs a buildkitd without TLS (unix:// or tcp://), not ${BUILDER}`);
  const Client = grpc.makeGenericClientConstructor(grpcDefinition(control.Control), "Control");
  const client = new Client(addr.target, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      const call = client.makeServerStreamRequest(methodPath(control.Control, "Prune"), (m: unknown) => Buffer.from(toBinary(control.PruneRequestSchema, m as control.PruneRequest)), (b: Buffer) => b, create(control.PruneRequestSchema, { filter: [`description~=${text}`], all: true }));
      call.on("data", () => {});
      call.on("end", () => resolve());
      call.on("error", reject);
    });
  } finally {
    client.close();
  }
}
