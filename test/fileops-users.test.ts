// USER and --chown resolution against an image's /etc/passwd and /etc/group, and WORKDIR's
// mkdir into a layer. Needs root (chown). The uid/gid rules were checked against docker
// 20.10's BuildKit: `--chown=app` → app's uid and primary gid, `--chown=1000` → 1000:1000,
// WORKDIR as USER app → 1000:1001, as USER 2000 → 2000:2000, as an unknown user → 0:0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { mkdirInLayer, resolveChown, resolveUser } from "../packages/builder/src/fileops/index.js";
import { LayeredView } from "../packages/builder/src/fs/index.js";
import { build, dump, scratch } from "./fileops-support.js";

let root: string;
let cleanup: () => Promise<void>;
let view: LayeredView;
let empty: LayeredView;
let n = 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch("users"));
  const base = join(root, "base");
  await build(base, {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1001::/home/app:/bin/sh\nsvc:x:2000:2000::/:/bin/sh\n",
    "etc/group": "root:x:0:\napp:x:1001:\nstaff:x:50:app,svc\nwheel:x:10:app\n",
    "app/sub/": null,
    "file": "f",
    "rootlink -> /": null,
  });
  view = new LayeredView([base]);
  const bare = join(root, "bare");
  await mkdir(bare);
  empty = new LayeredView([bare]);
});

afterAll(() => cleanup());

describe("resolveUser (USER for RUN)", () => {
  const cases: [string, number, number, number[]][] = [
    ["", 0, 0, [0]],
    ["root", 0, 0, [0]],
    ["app", 1000, 1001, [1001, 50, 10]],
    ["1000", 1000, 1001, [1001, 50, 10]],
    ["5000", 5000, 0, [0]],
    ["app:staff", 1000, 50, [50]],
    ["app:999", 1000, 999, [999]],
    ["1000:1000", 1000, 1000, [1000]],
    ["root:root", 0, 0, [0]],
    ["svc", 2000, 2000, [2000, 50]],
  ];
  for (const [spec, uid, gid, additionalGids] of cases) {
    it(`${JSON.stringify(spec)} → ${uid}:${gid} ${additionalGids}`, async () => {
      expect(await resolveUser(view, spec)).toEqual({ uid, gid, additionalGids });
    });
  }
  it("rejects unknown names", async () => {
    await expect(resolveUser(view, "nosuch")).rejects.toThrow("unable to find user nosuch: no matching entries in passwd file");
    await expect(resolveUser(view, "app:nogroup")).rejects.toThrow("unable to find group nogroup: no matching entries in group file");
  });
  it("works without /etc/passwd for numeric ids only", async () => {
    expect(await resolveUser(empty, "1000")).toEqual({ uid: 1000, gid: 0, additionalGids: [0] });
    expect(await resolveUser(empty, "")).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
    await expect(resolveUser(empty, "app")).rejects.toThrow("unable to find user app");
  });
});

describe("resolveChown (--chown)", () => {
  it("looks names up and takes numbers as they are", async () => {
    expect(await resolveChown(view, "app")).toEqual({ uid: 1000, gid: 1001 });
    expect(await resolveChown(view, "1000")).toEqual({ uid: 1000, gid: 1000 });
    expect(await resolveChown(view, "app:staff")).toEqual({ uid: 1000, gid: 50 });
    expect(await resolveChown(view, "app:")).toEqual({ uid: 1000, gid: 1001 });
    expect(await resolveChown(view, "10:wheel")).toEqual({ uid: 10, gid: 10 });
    expect(await resolveChown(view, "root")).toEqual({ uid: 0, gid: 0 });
    expect(await resolveChown(undefined, "7:8")).toEqual({ uid: 7, gid: 8 });
  });
  it("errors on unknown names, or BuildKit's silent fallback when lenient", async () => {
    await expect(resolveChown(view, "ghost")).rejects.toThrow(/unable to find user ghost/);
    await expect(resolveChown(empty, "app")).rejects.toThrow(/unable to find user app/);
    expect(await resolveChown(view, "ghost", { lenient: true })).toEqual({ uid: 0, gid: 0 });
    expect(await resolveChown(view, "app:ghost", { lenient: true })).toEqual({ uid: 1000, gid: 1001 });
    await expect(resolveChown(undefined, "app")).rejects.toThrow(/--link/);
  });
});

describe("mkdirInLayer (WORKDIR)", () => {
  async function mk(path: string, owner?: { uid: number; gid: number }, createdTime?: number) {
    const layerDir = join(root, `wd${++n}`);
    await mkdir(layerDir);
    const created = await mkdirInLayer({ view, layerDir }, path, owner, { createdTime });
    return { created, layerDir, tree: await dump(layerDir) };
  }
  it("creates the missing directories as the owner, copying up existing parents", async () => {
    const { created, tree, layerDir } = await mk("/app/sub/new/deeper", { uid: 1000, gid: 1001 }, 1234);
    expect(created).toBe(true);
    expect(tree).toEqual({
      "app": { type: "dir", mode: "0755", uid: 0, gid: 0 },
      "app/sub": { type: "dir", mode: "0755", uid: 0, gid: 0 },
      "app/sub/new": { type: "dir", mode: "0755", uid: 1000, gid: 1001 },
      "app/sub/new/deeper": { type: "dir", mode: "0755", uid: 1000, gid: 1001 },
    });
    expect((await stat(join(layerDir, "app/sub/new"))).mtimeMs).toBe(1_234_000);
  });
  it("leaves the layer empty when the directory exists", async () => {
    const { created, layerDir } = await mk("/app/sub");
    expect(created).toBe(false);
    expect(await readdir(layerDir)).toEqual([]);
  });
  it("follows symlinks inside the rootfs and refuses to go through a file", async () => {
    expect(Object.keys((await mk("/rootlink/w")).tree)).toEqual(["w"]);
    await expect(mk("/file/x")).rejects.toThrow("WORKDIR /file/x: mkdir /file: not a directory");
  });
});
