// Hostile build contexts: sources that climb out with "..", absolute sources, symlinks in the
// context that point at the host's / or outside the context, a symlinked Dockerfile or
// .dockerignore, .dockerignore patterns that reach outside, bind mounts of such symlinks.
// A canary secret lives outside every context; whatever each case does, its token must
// appear in no layer, store file, output, event or error, and the canary must be intact.
// Needs root (sandbox for the RUN --mount cases).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectFailure, expectSuccess, writeTree, type TreeSpec } from "../support/hostile-build.js";
import { findInTree, plantCanary, type Canary } from "../support/hostile-host.js";
import { Tally } from "../support/hostile-tally.js";

let env: BuildEnv;
let canary: Canary;
let outside: string;
let n = 0;

beforeAll(async () => {
  env = await makeBuildEnv();
  canary = plantCanary(mkdtempSync("/dev/shm/tbuild-canary-"));
  // A directory outside the context with a Dockerfile and an ignore file that must never be used.
  outside = writeTree(mkdtempSync("/dev/shm/tbuild-outside-"), {
    Dockerfile: "FROM busybox\nRUN echo read-from-outside > /marker\n",
    ignore: "*\n!Dockerfile\n",
  });
});
afterAll(() => {
  env?.dispose();
  if (canary) rmSync(canary.dir, { recursive: true, force: true });
  if (outside) rmSync(outside, { recursive: true, force: true });
});

/** A context with the usual traps: links to /, to the canary, climbing out, to the outside dir. */
function trapContext(dockerfile: string, extra: TreeSpec = {}): string {
  return writeTree(path.join(env.work, `hostile-ctx${n++}`), {
    Dockerfile: dockerfile,
    "a.txt": "inside\n",
    root: { symlink: "/" },
    e: { symlink: "../../../../../../../../.." + canary.dir },
    up: { symlink: "../.." },
    c: { symlink: canary.file },
    etc: { symlink: "../../etc" },
    ...extra,
  });
}

/** Builds into a local output; returns the attempt and the output dir. */
async function buildTo(ctx: string, opts: { dockerfile?: string } = {}) {
  const out = path.join(env.work, `hostile-out${n++}`);
  const a = await attempt(env, { context: ctx, dockerfile: opts.dockerfile, outputs: [{ type: "local", dest: out }] });
  if (a.said.includes(canary.token)) throw new Error(`the canary token appeared in events or the error:\n${a.said}`);
  if (existsSync(out) && findInTree(out, canary.token).length > 0) throw new Error(`the canary reached the output ${out}`);
  return { ...a, out };
}

const notFound = /not found|does not exist|no such file/i;

describe("hostile build contexts", () => {
  it("read nothing outside the context", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const rel = path.relative(env.work, canary.file);
    const failing: [string, string][] = [
      ["COPY ../x", `COPY ../${path.basename(canary.dir)}/secret.txt /x`],
      ["COPY ../../… to the canary", `COPY ../../../../../../..${canary.file} /x`],
      ["COPY relative to the canary", `COPY ../${rel} /x`],
      ["COPY absolute", `COPY ${canary.file} /x`],
      ["ADD absolute", `ADD ${canary.file} /x`],
      ["COPY through a link to /", `COPY root${canary.file} /x`],
      ["COPY through a link climbing out", "COPY e/secret.txt /x"],
      ["COPY a link to the canary file", "COPY c /x"],
      ["COPY through ../..", `COPY up${canary.file} /x`],
      ["COPY --parents through a link", "COPY --parents e/./secret.txt /p/"],
      ["COPY a wildcard through a link", "COPY e/secret.tx[t] /w/"],
      ["COPY --from a named dir", `COPY ${canary.file} /x`],
    ];
    for (const [name, line] of failing) {
      await t.check(name, async () => {
        const a = await buildTo(trapContext(`FROM busybox\n${line}\n`));
        // A wildcard that matches nothing may also succeed with nothing copied.
        if (a.error === undefined && line.includes("[t]")) {
          expect(existsSync(path.join(a.out, "w/secret.txt"))).toBe(false);
          return;
        }
        expectFailure(a, notFound, name);
      });
    }

    await t.check("COPY of a link to / copies the context, not the host", async () => {
      const a = await buildTo(trapContext("FROM busybox\nCOPY root /r/\nCOPY . /all/\n"));
      expectSuccess(a, "COPY root");
      expect(readFileSync(path.join(a.out, "r/a.txt"), "utf8")).toBe("inside\n");
      expect(existsSync(path.join(a.out, "r/etc/hostname"))).toBe(false);
      expect(readdirSync(path.join(a.out, "all")).sort()).toEqual(["Dockerfile", "a.txt", "c", "e", "etc", "root", "up"]);
    });

    await t.check("a wildcard over links follows them inside the context only", async () => {
      // BuildKit follows a matched link inside the context: the one to the canary dangles there.
      expectFailure(await buildTo(trapContext("FROM busybox\nCOPY * /w/\n")), notFound, "COPY *");
      const a = await buildTo(trapContext("FROM busybox\nCOPY * /w/\n", { ".dockerignore": "c\ne\netc\n" }));
      expectSuccess(a, "COPY * without dangling links");
      expect(readFileSync(path.join(a.out, "w/a.txt"), "utf8")).toBe("inside\n");
      expect(existsSync(path.join(a.out, "w/etc/hostname"))).toBe(false);
    });

    for (const [name, mount] of [
      ["bind of a link to the canary dir", "source=e"],
      ["bind of a link to /", `source=root${canary.dir}`],
      ["bind of ../..", `source=../../../../..${canary.dir}`],
      ["bind of a link to the canary file", "source=c"],
      ["bind of an absolute source", `source=${canary.dir}`],
    ]) {
      await t.check(`RUN --mount ${name}`, async () => {
        const a = await buildTo(trapContext(`FROM busybox\nRUN --mount=type=bind,${mount},target=/m cat /m/secret.txt /m > /got 2>&1; ls -la /m >> /got 2>&1; true\n`));
        if (a.error === undefined) {
          const got = readFileSync(path.join(a.out, "got"), "utf8");
          expect(got).not.toContain("CANARY");
        } else {
          expectFailure(a, notFound, name);
        }
      });
    }

    await t.check("a symlinked Dockerfile pointing inside the context is used", async () => {
      const ctx = trapContext("FROM busybox\nRUN echo inside > /marker\n", { "docker/real.Dockerfile": "FROM busybox\nRUN echo via-link > /marker\n" });
      rmSync(path.join(ctx, "Dockerfile"));
      writeTree(ctx, { Dockerfile: { symlink: "docker/real.Dockerfile" } });
      const a = await buildTo(ctx);
      expectSuccess(a, "symlinked Dockerfile");
      expect(readFileSync(path.join(a.out, "marker"), "utf8")).toBe("via-link\n");
    });

    await t.check("a .dockerignore linked outside the context is not read", async () => {
      const ctx = trapContext("FROM busybox\nCOPY a.txt /a.txt\n", { ".dockerignore": { symlink: path.join(outside, "ignore") } });
      const a = await buildTo(ctx);
      // Either refused, or built without the outside patterns (which would ignore a.txt).
      if (a.error === undefined) expect(readFileSync(path.join(a.out, "a.txt"), "utf8")).toBe("inside\n");
      else expectFailure(a, /dockerignore/, ".dockerignore link");
    });

    await t.check("a .dockerignore linked to the canary does not leak it", async () => {
      await buildTo(trapContext("FROM busybox\nCOPY a.txt /a.txt\n", { ".dockerignore": { symlink: canary.file } }));
    });

    await t.check(".dockerignore patterns that reach outside include nothing from outside", async () => {
      const ignore = ["*", "!Dockerfile", "!a.txt", "!../*", `!${canary.file}`, "!../**/secret.txt", `!../${path.basename(canary.dir)}`].join("\n");
      const a = await buildTo(trapContext("FROM busybox\nCOPY . /all/\n", { ".dockerignore": ignore }));
      expectSuccess(a, "outside patterns");
      expect(readdirSync(path.join(a.out, "all")).sort()).toEqual(["Dockerfile", "a.txt"]);
      // Patterns are cleaned as paths, so "**/../**" is "**": everything of the context, nothing more.
      const b = await buildTo(trapContext("FROM busybox\nCOPY . /all/\n", { ".dockerignore": "*\n!/../../**\n!**/../**\n" }));
      expectSuccess(b, "cleaned outside patterns");
      expect(readdirSync(path.join(b.out, "all")).sort()).toEqual([".dockerignore", "Dockerfile", "a.txt", "c", "e", "etc", "root", "up"]);
    });

    await t.check("a .dockerignore that ignores itself and the Dockerfile still builds", async () => {
      const a = await buildTo(trapContext("FROM busybox\nCOPY . /all/\n", { ".dockerignore": ".dockerignore\nDockerfile\nroot\ne\nc\nup\netc\n" }));
      expectSuccess(a, "self-ignoring");
      expect(readdirSync(path.join(a.out, "all"))).toEqual(["a.txt"]);
    });

    await t.check("a broken .dockerignore pattern is a clear error", async () => {
      expectFailure(await buildTo(trapContext("FROM busybox\nCOPY . /all/\n", { ".dockerignore": "[z-a\n" })), /dockerignore|pattern/i, "bad pattern");
    });

    await t.check("a named build context that is a link to the canary dir is read as a directory, inside it only", async () => {
      const ctx = trapContext("FROM busybox\nCOPY --from=other e/secret.txt /x\n");
      const other = writeTree(path.join(env.work, `hostile-named${n++}`), { "in.txt": "named\n", e: { symlink: "../../../../../../.." + canary.dir } });
      const out = path.join(env.work, `hostile-out${n++}`);
      const a = await attempt(env, { context: ctx, buildContexts: { other }, outputs: [{ type: "local", dest: out }] });
      expect(a.said).not.toContain(canary.token);
      expectFailure(a, notFound, "named context link");
    });

    await t.check("the canary is intact and appears nowhere in the store", () => {
      canary.verify();
      expect(findInTree(env.root, canary.token)).toEqual([]);
    });
    t.assertClean();
  });

  // Fixed (build.ts reads a Dockerfile inside the context with readFileInRoot): the
  // Dockerfile is read like any context file, links followed inside the context only.
  it("read no Dockerfile through a link that leaves the context", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    for (const [name, target] of [
      ["absolute", path.join(outside, "Dockerfile")],
      ["relative, climbing out", path.relative(path.join(env.work, "x"), path.join(outside, "Dockerfile"))],
    ] as const) {
      await t.check(`a symlinked Dockerfile pointing outside the context (${name}) is not read`, async () => {
        const ctx = trapContext("unused");
        rmSync(path.join(ctx, "Dockerfile"));
        writeTree(ctx, { Dockerfile: { symlink: target } });
        const a = await buildTo(ctx);
        expectFailure(a, /Dockerfile/, "outside Dockerfile");
        expect(existsSync(path.join(a.out, "marker"))).toBe(false);
      });
    }

    await t.check("a Dockerfile that is a link to the canary does not leak it", async () => {
      const ctx = trapContext("unused");
      rmSync(path.join(ctx, "Dockerfile"));
      writeTree(ctx, { Dockerfile: { symlink: canary.file } });
      expectFailure(await buildTo(ctx), /Dockerfile/, "canary Dockerfile");
    });
    t.assertClean();
  });
});
