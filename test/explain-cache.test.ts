// Why a step missed the cache (issue 14, "why it missed"): each kind of key input is
// changed on its own and the reason of the step that reads it is asserted word for word,
// through the library API (the `step-miss` event and BuildResult.steps[i].cache). A hit
// must do no explaining work: no file listing made or read. Needs root (RUN steps).
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildEvent, BuildResult } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { listingCounters } from "../packages/builder/src/solve/explain/file-listing.js";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

/** instruction → reason of every step-miss event. */
const misses = (events: BuildEvent[]) =>
  Object.fromEntries(events.flatMap((e) => (e.type === "step-miss" ? [[e.step.instruction, e.reason]] : [])));
const cacheOf = (r: BuildResult, instruction: string) => r.steps.find((s) => s.step.instruction === instruction)?.cache;

describe("cache-miss reasons", () => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor: "unshare" });
  });
  afterAll(() => env?.dispose());

  const dockerfile = ["FROM busybox", "ARG VERSION=1", "WORKDIR /app", "COPY src/ ./src/", "RUN echo $VERSION > /v"].join("\n");
  const files = { Dockerfile: dockerfile, "src/a.ts": "a\n", "src/b.ts": "b\n", "src/c.ts": "c\n", "src/d.ts": "d\n" };

  it("names the first build, a parent that ran, changed files (content, mode, .dockerignore) and a changed ARG", async () => {
    const ctx = env.context(files);
    const first = await env.run({ context: ctx });
    expect(misses(first.events)).toEqual({
      "WORKDIR /app": "not in cache (first build)",
      "COPY src/ ./src/": "parent changed (step 3)",
      "RUN echo $VERSION > /v": "parent changed (step 4)",
    });

    // A hit explains nothing: no listing made or read, no miss event; it names its source.
    listingCounters.made = listingCounters.read = 0;
    const again = await env.run({ context: ctx });
    expect(misses(again.events)).toEqual({});
    expect(listingCounters).toEqual({ made: 0, read: 0 });
    expect(again.events.filter((e) => e.type === "step-cached").map((e) => (e as { source?: string }).source)).toEqual(["local", "local", "local"]);
    const copyHit = cacheOf(again.result, "COPY src/ ./src/")!;
    expect(copyHit.source).toBe("local");
    expect(copyHit.reason).toBeUndefined();
    expect(Object.keys(copyHit.inputs)).toEqual(expect.arrayContaining(["parent", "sources", "sourceKey", "dest", "chmod"]));

    // File content: three files changed, the first (in path order) is named.
    for (const f of ["b", "c", "d"]) writeFileSync(path.join(ctx, `src/${f}.ts`), `${f}2\n`);
    const content = await env.run({ context: ctx });
    expect(misses(content.events)).toEqual({
      "COPY src/ ./src/": "context files changed: src/b.ts (+2 more)",
      "RUN echo $VERSION > /v": "parent changed (step 4)",
    });
    const changed = cacheOf(content.result, "COPY src/ ./src/")!.changed!;
    expect(changed).toEqual([{ input: "sourceKey", text: "context files changed: src/b.ts (+2 more)", items: ["src/b.ts", "src/c.ts", "src/d.ts"] }]);

    // File mode alone.
    chmodSync(path.join(ctx, "src/a.ts"), 0o755);
    expect(misses((await env.run({ context: ctx })).events)["COPY src/ ./src/"]).toBe("context files changed: src/a.ts");

    // .dockerignore takes a file out of the selection.
    writeFileSync(path.join(ctx, ".dockerignore"), "src/c.ts\n");
    expect(misses((await env.run({ context: ctx })).events)["COPY src/ ./src/"]).toBe("context files changed: src/c.ts");

    // An ARG the RUN sees: only the RUN misses.
    const arg = await env.run({ context: ctx, buildArgs: { VERSION: "2" } });
    expect(misses(arg.events)).toEqual({ "RUN echo $VERSION > /v": "ARG VERSION changed" });
    expect(cacheOf(arg.result, "RUN echo $VERSION > /v")!.changed).toEqual([{ input: "env", text: "ARG VERSION changed", items: ["VERSION"] }]);
  });

  it("names files through a wildcard and --exclude selection, and ignores excluded ones", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nCOPY --exclude=*.md s* /s/\n", "src/x.txt": "x\n", "src/y.md": "y\n", "sub/z.txt": "z\n" });
    await env.run({ context: ctx });
    writeFileSync(path.join(ctx, "src/y.md"), "y2\n");
    expect(misses((await env.run({ context: ctx })).events)).toEqual({});
    writeFileSync(path.join(ctx, "sub/z.txt"), "z2\n");
    expect(misses((await env.run({ context: ctx })).events)).toEqual({ "COPY --exclude=*.md s* /s/": "context files changed: sub/z.txt" });
  });

  it("records a build arg's value only as a digest, and still names it when it changes", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nARG TOKEN\nRUN test -n \"$TOKEN\"\n" });
    await env.run({ context: ctx, buildArgs: { TOKEN: "tok-7f3a9c-first" } });
    const r = await env.run({ context: ctx, buildArgs: { TOKEN: "tok-7f3a9c-second" } });
    expect(misses(r.events)).toEqual({ 'RUN test -n "$TOKEN"': "ARG TOKEN changed" });
    const grep = spawnSync("grep", ["-rl", "tok-7f3a9c", path.join(env.root, "index"), path.join(env.root, "key-lists")], { encoding: "utf8" });
    expect(grep.stdout).toBe("");
    expect(grep.status).toBe(1); // searched, nothing found
  });

  it("says so when the record is there but its layer was removed", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN echo gone > /g\n" });
    const first = await env.run({ context: ctx });
    const store = await Store.open(env.root);
    try {
      const rec = await store.peekRecord(cacheOf(first.result, "RUN echo gone > /g")!.key);
      rmSync(store.layout.snapshotDir(rec!.refs.snapshots[0]!), { recursive: true });
    } finally {
      await store.close();
    }
    expect(misses((await env.run({ context: ctx })).events)).toEqual({ "RUN echo gone > /g": "cached layer was removed from the store" });
  });

  it("names a changed secret id and changed mount options", async () => {
    const df = (secret: string, cache: string) =>
      ["FROM busybox", `RUN --mount=type=secret,id=${secret} true`, `RUN --mount=type=cache,target=/c${cache} true`].join("\n");
    const secrets = [{ id: "one", env: "HOME" }, { id: "two", env: "HOME" }];
    const ctx = env.context({ Dockerfile: df("one", "") });
    await env.run({ context: ctx, secrets });
    writeFileSync(path.join(ctx, "Dockerfile"), df("two", ""));
    const secret = await env.run({ context: ctx, secrets });
    // The default target follows the id, so both are named; `true` leaves the same (empty)
    // layer, so the next step's parent is unchanged and it hits.
    expect(misses(secret.events)).toEqual({
      "RUN --mount=type=secret,id=two true": "--mount type=secret: id changed (one → two), target changed (/run/secrets/one → /run/secrets/two)",
    });
    writeFileSync(path.join(ctx, "Dockerfile"), df("two", ",sharing=locked"));
    const opts = await env.run({ context: ctx, secrets });
    expect(misses(opts.events)).toEqual({ "RUN --mount=type=cache,target=/c,sharing=locked true": "--mount type=cache,target=/c: sharing changed (shared → locked)" });
  });

  it("names a COPY --from stage that ran by its step", async () => {
    const df = (word: string) => ["FROM busybox AS b", `RUN echo ${word} > /o`, "FROM busybox", "COPY --from=b /o /o"].join("\n");
    const ctx = env.context({ Dockerfile: df("x") });
    await env.run({ context: ctx });
    writeFileSync(path.join(ctx, "Dockerfile"), df("y"));
    expect(misses((await env.run({ context: ctx })).events)).toEqual({ "RUN echo y > /o": "command changed", "COPY --from=b /o /o": "--from changed (step b 2)" });
    // Whether the rerun makes the same layer again (and the COPY hits) depends on the clock: not asserted.
    expect(misses((await env.run({ context: ctx, noCacheFilter: ["b"] })).events)["RUN echo y > /o"]).toBe("--no-cache-filter b");
  });

  it("names a changed base image digest, --no-cache, and an imported cache without the entry", async () => {
    const baseCtx = env.context({ Dockerfile: "FROM busybox\nRUN echo 1 > /base\n" });
    const base1 = await env.run({ context: baseCtx, tags: ["explain-base:1"] });
    const app = env.context({ Dockerfile: "FROM explain-base:1\nRUN cat /base > /copy\n" });
    await env.run({ context: app });
    writeFileSync(path.join(baseCtx, "Dockerfile"), "FROM busybox\nRUN echo 2 > /base\n");
    const base2 = await env.run({ context: baseCtx, tags: ["explain-base:1"] });
    const rebuilt = await env.run({ context: app });
    const short = (d: string) => d.slice(0, "sha256:".length + 12);
    expect(misses(rebuilt.events)).toEqual({
      "RUN cat /base > /copy": `base image digest changed: explain-base:1 ${short(base1.result.manifestDigest)} → ${short(base2.result.manifestDigest)}`,
    });

    expect(misses((await env.run({ context: app, noCache: true })).events)).toEqual({ "RUN cat /base > /copy": "--no-cache" });
    const fresh = env.context({ Dockerfile: "FROM busybox\nRUN echo imported\n" });
    // cacheFrom is read only for its length until the cache-import work lands.
    expect(misses((await env.run({ context: fresh, cacheFrom: [{}] })).events)).toEqual({ "RUN echo imported": "imported cache has no entry" });
  });

  it("keeps what it records consistent with prune: key lists and file listings go with their records", async () => {
    const ctx = env.context(files);
    const first = await env.run({ context: ctx });
    const copyKey = cacheOf(first.result, "COPY src/ ./src/")!.key;
    const store = await Store.open(env.root, { gracePeriodMs: 0 });
    try {
      const listing = (await store.peekRecord<{ explain?: { files?: `sha256:${string}` } }>(copyKey))?.value.explain?.files;
      expect(listing).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await store.hasBlob(listing!)).toBe(true);
      expect(keyListFiles(env.root).length).toBeGreaterThan(0);
      const pruned = await store.prune({ all: true });
      expect(pruned.blobs).toContain(listing);
      expect(await store.hasBlob(listing!)).toBe(false);
      expect(keyListFiles(env.root)).toEqual([]);
    } finally {
      await store.close();
    }
    // Nothing left to compare with: the same project's next miss is a first build again.
    writeFileSync(path.join(ctx, "src/a.ts"), "a3\n");
    expect(misses((await env.run({ context: ctx })).events)).toEqual({
      "WORKDIR /app": "not in cache (first build)",
      "COPY src/ ./src/": "parent changed (step 3)",
      "RUN echo $VERSION > /v": "parent changed (step 4)",
    });
  });
});

function keyListFiles(root: string): string[] {
  const dir = path.join(root, "key-lists");
  return readdirSync(dir).flatMap((shard) => readdirSync(path.join(dir, shard)));
}
