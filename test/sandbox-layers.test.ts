// Deep layer stacks with long store paths (overlayfs takes at most one page of mount
// options), and choosing executors and snapshotters.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, selectExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { CopySnapshotter, OverlaySnapshotter, selectSnapshotter, type Snapshotter } from "../packages/builder/src/snapshot/index.js";
import { IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const DEPTH = 130;

describe.skipIf(skip !== undefined)("deep layer stacks", () => {
  let store: string;
  let layers: string[]; // top-most first
  beforeAll(() => {
    store = tempDir("store");
    const dirOf = (i: number) => `${store}/snapshots/sha256/${i.toString(16).padStart(64, "0")}/fs`;
    const base = makeBusyboxSnapshot((mkdirSync(dirOf(0), { recursive: true }), dirOf(0)));
    const stack = [base];
    for (let i = 1; i < DEPTH; i++) {
      const d = dirOf(i);
      mkdirSync(`${d}/files`, { recursive: true });
      writeFileSync(`${d}/files/f${i}`, `${i}\n`);
      stack.unshift(d);
    }
    layers = stack;
  });
  afterAll(() => rmSync(store, { recursive: true, force: true }));

  const cases: [string, () => Executor, () => Snapshotter][] = [
    ["unshare/overlay", () => UnshareExecutor.create(), () => new OverlaySnapshotter()],
    ["runc/overlay", () => RuncExecutor.create(), () => new OverlaySnapshotter()],
    ["unshare/copy", () => UnshareExecutor.create(), () => new CopySnapshotter()],
  ];
  it.each(cases)("%s mounts 130 lowers with long paths as the rootfs and as a layers mount", async (_n, ex, snap) => {
    expect(layers.join(":").length).toBeGreaterThan(4096);
    const r = await runStep(ex(), snap(), layers, ["/bin/sh", "-c", "ls /files | wc -l; cat /files/f1 /files/f129; ls /stack/files | wc -l; rm /files/f7"], {
      mounts: [{ type: "layers", lowers: layers.slice(0, 120), target: "/stack", readonly: true }],
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${DEPTH - 1}\n1\n129\n120\n`);
    expect(readTree(r.diff).get("/files/f7")).toMatchObject({ type: "whiteout" });
    rmSync(r.scratch, { recursive: true, force: true });
  });
});

describe.skipIf(skip !== undefined)("selection", () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env.TBUILD_EXECUTOR = saved.TBUILD_EXECUTOR;
    process.env.TBUILD_SNAPSHOTTER = saved.TBUILD_SNAPSHOTTER;
    if (saved.TBUILD_EXECUTOR === undefined) delete process.env.TBUILD_EXECUTOR;
    if (saved.TBUILD_SNAPSHOTTER === undefined) delete process.env.TBUILD_SNAPSHOTTER;
  });

  it("picks executors by argument, with TBUILD_EXECUTOR overriding", async () => {
    delete process.env.TBUILD_EXECUTOR;
    expect((await selectExecutor("unshare")).name).toBe("unshare");
    expect((await selectExecutor("runc")).name).toBe("runc");
    expect((await selectExecutor("auto")).name).toBe("unshare"); // the faster one, when util-linux is complete
    process.env.TBUILD_EXECUTOR = "unshare";
    expect((await selectExecutor("runc")).name).toBe("unshare");
  });

  it("picks overlay where an upper dir works, copy when asked, TBUILD_SNAPSHOTTER overriding", async () => {
    delete process.env.TBUILD_SNAPSHOTTER;
    const dir = tempDir("storefs");
    try {
      expect((await selectSnapshotter("auto", { storeDir: dir })).name).toBe("overlay");
      expect((await selectSnapshotter("copy", { storeDir: dir })).name).toBe("copy");
      process.env.TBUILD_SNAPSHOTTER = "copy";
      expect((await selectSnapshotter("overlay", { storeDir: dir })).name).toBe("copy");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
