// COPY --from a stage or image: the source is a layered rootfs view. Owners, modes
// (set-id bits too), extended attributes and device nodes are kept; whiteouts and opaque
// directories of the source layers are honoured; symlinks named as sources resolve inside
// the source rootfs. Needs root (chown, mknod) and the attr tools.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { copy, selectSources, type CopyRequest } from "../packages/builder/src/fileops/index.js";
import { LayeredView } from "../packages/builder/src/fs/index.js";
import { build, dump, scratch, setOpaque, whiteout } from "./fileops-support.js";

let root: string;
let cleanup: () => Promise<void>;
let stage: LayeredView;
let target: LayeredView;
let n = 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch("from"));
  const s0 = join(root, "s0");
  const s1 = join(root, "s1");
  await build(s0, {
    "usr/bin/tool": "#!/bin/sh\n",
    "data/owned": "www",
    "data/gone": "deleted later",
    "data/cap": "capable",
    "opq/old": "hidden by opaque",
    "etc/passwd": "root:x:0:0::/root:/bin/sh\n",
    "lnk -> /data": null,
    "out -> ../../../../etc/passwd": null,
  });
  await chmod(join(s0, "usr/bin/tool"), 0o4755);
  await chown(join(s0, "data/owned"), 33, 33);
  await chown(join(s0, "data"), 33, 34);
  execFileSync("setfattr", ["-n", "user.origin", "-v", "stage", join(s0, "data/cap")]);
  await mkdir(join(s0, "dev"));
  execFileSync("mknod", [join(s0, "dev/null"), "c", "1", "3"]);
  await build(s1, { "data/": null, "opq/new": "new" });
  whiteout(s1, "data/gone");
  setOpaque(join(s1, "opq"));
  stage = new LayeredView([s1, s0]);
  const t = join(root, "target");
  await build(t, { "etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:70:71::/:/bin/sh\n", "etc/group": "root:x:0:\n" });
  target = new LayeredView([t]);
});

afterAll(() => cleanup());

async function run(req: Partial<CopyRequest> & { sources: string[]; dest: string }) {
  const layerDir = join(root, `out${++n}`);
  await mkdir(layerDir);
  await copy({
    op: "copy", heredocs: [], workdir: "/", from: { kind: "view", view: stage, name: "stage builder" }, link: false, parents: false,
    excludes: [], target: { view: target, layerDir }, ...req,
  });
  return { layerDir, tree: await dump(layerDir) };
}

describe("COPY --from", () => {
  it("keeps owners, modes and extended attributes, and honours whiteouts", async () => {
    const { tree, layerDir } = await run({ sources: ["/data"], dest: "/out/" });
    expect(tree).toEqual({
      "out": { type: "dir", mode: "0755", uid: 0, gid: 0 },
      "out/cap": { type: "file", mode: "0644", uid: 0, gid: 0, content: "capable" },
      "out/owned": { type: "file", mode: "0644", uid: 33, gid: 33, content: "www" },
    });
    expect(execFileSync("getfattr", ["--only-values", "-n", "user.origin", join(layerDir, "out/cap")]).toString()).toBe("stage");
    expect((await run({ sources: ["/usr/bin/tool"], dest: "/bin/" })).tree["bin/tool"]).toMatchObject({ mode: "4755" });
  });

  it("honours opaque directories of the source", async () => {
    expect(Object.keys((await run({ sources: ["/opq"], dest: "/o/" })).tree)).toEqual(["o", "o/new"]);
  });

  it("follows a named symlink inside the source rootfs only", async () => {
    expect(Object.keys((await run({ sources: ["/lnk"], dest: "/l/" })).tree)).toEqual(["l", "l/cap", "l/owned"]);
    expect((await run({ sources: ["/out"], dest: "/p" })).tree["p"]).toMatchObject({ content: "root:x:0:0::/root:/bin/sh\n" });
  });

  it("copies device nodes and applies --chown with the target's users", async () => {
    expect((await run({ sources: ["/dev/null"], dest: "/d/" })).tree["d/null"]).toMatchObject({ type: "char" });
    const { tree } = await run({ sources: ["/data"], dest: "/c", chown: "web" });
    expect(Object.values(tree).every((e) => e.uid === 70 && e.gid === 71)).toBe(true);
  });

  it("names what it selects, for the cache key", async () => {
    const sel = await selectSources({ kind: "view", view: stage }, ["/data", "/usr/bin/*"], { parents: false, excludes: ["cap"] });
    expect(sel.map((s) => [s.matchPath, s.items.map((i) => i.entry.path)])).toEqual([
      ["/data", ["/data", "/data/owned"]],
      ["/usr/bin/tool", ["/usr/bin/tool"]],
    ]);
    await expect(selectSources({ kind: "view", view: stage, name: "stage builder" }, ["/nope"], { parents: false, excludes: [] })).rejects.toThrow(
      "COPY failed: stat nope: file does not exist in stage builder",
    );
  });
});
