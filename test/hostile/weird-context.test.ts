// Contexts with awkward entries: a FIFO (reading it would block the build forever), a unix
// socket, names with newlines, backslashes, glob characters, a leading dash, 255-byte names,
// a 600-level deep tree, thousands of files, names that are not UTF-8, and a ".wh." name
// (which would become a whiteout in a layer). `COPY . /x/` must finish, copy every regular
// file with its exact name and content, and refuse what it cannot store with a clear error
// instead of dropping it silently. Needs root.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectFailure, expectSuccess } from "../support/hostile-build.js";
import { Tally } from "../support/hostile-tally.js";

let env: BuildEnv;
let n = 0;

beforeAll(async () => {
  env = await makeBuildEnv();
});
afterAll(() => env?.dispose());

const NAMES = ["new\nline", "back\\slash", "glob[a]*?", "-rf", "sp ace", "ünï©ødé-名前", "L".repeat(255), "..dots", "trailing."];

function weirdContext(extra: (dir: string) => void = () => {}): string {
  const dir = env.context({ Dockerfile: "FROM busybox\nCOPY . /x/\n" });
  for (const name of NAMES) writeFileSync(path.join(dir, name), `content of ${name}\n`);
  execFileSync("mkfifo", [path.join(dir, "pipe")]);
  let deep = path.join(dir, "deep");
  mkdirSync(deep);
  for (let i = 0; i < 600; i++) deep = path.join(deep, "d");
  mkdirSync(deep, { recursive: true });
  writeFileSync(path.join(deep, "bottom"), "bottom\n");
  mkdirSync(path.join(dir, "many"));
  for (let i = 0; i < 3000; i++) writeFileSync(path.join(dir, "many", `f${i}`), `${i}\n`);
  extra(dir);
  return dir;
}

/** Builds `dir` (a unix socket listening in it meanwhile) into a local output. */
async function copyAll(dir: string) {
  const out = path.join(env.work, `weird-out${n++}`);
  const sock = createServer();
  await new Promise<void>((r) => sock.listen(path.join(dir, "sock"), r));
  try {
    return { a: await attempt(env, { context: dir, outputs: [{ type: "local", dest: out }] }), out };
  } finally {
    await new Promise((r) => sock.close(r));
  }
}

describe("awkward build contexts", () => {
  it("copy every regular file exactly, whatever its name or depth, and never block", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const { a, out } = await copyAll(weirdContext());
    await t.check("the build finishes", () => expectSuccess(a, "weird context"));
    for (const name of NAMES) {
      await t.check(`a file named ${JSON.stringify(name.length > 40 ? name.slice(0, 10) + "…" : name)}`, () => {
        expect(readFileSync(path.join(out, "x", name), "utf8")).toBe(`content of ${name}\n`);
      });
    }
    await t.check("a 600-level deep tree", () => {
      expect(readFileSync(path.join(out, "x/deep", ...Array(600).fill("d"), "bottom"), "utf8")).toBe("bottom\n");
    });
    await t.check("3000 files", () => expect(readdirSync(path.join(out, "x/many")).length).toBe(3000));
    await t.check("the socket is not copied (it cannot be stored in a layer)", () => expect(existsSync(path.join(out, "x/sock"))).toBe(false));
    t.assertClean();
  });

  it("refuse a .wh. name with a clear error", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    await t.check(".wh.name", async () => {
      const { a } = await copyAll(weirdContext((dir) => writeFileSync(path.join(dir, ".wh.passwd"), "would delete /x/passwd\n")));
      expectFailure(a, /\.wh\./, ".wh. name");
    });
    t.assertClean();
  });

  // Fixed (packages/cache/src/context/walk.ts): a context name that is not valid UTF-8 is a
  // ContextError naming it (unless .dockerignore excludes it), never a silent drop.
  it("copy or refuse, never drop, a file whose name is not UTF-8", async () => {
    const dir = env.context({ Dockerfile: "FROM busybox\nCOPY . /x/\n" });
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from("-name")]), "bytes\n");
    const { a, out } = await copyAll(dir);
    if (a.error) return expect(a.error.message).toMatch(/UTF-8|name/i);
    const names = readdirSync(path.join(out, "x"), { encoding: "buffer" }).map((b) => b.toString("latin1"));
    expect(names).toContain(`bad-\xff\xfe-name`);
  });
});
