// What a RUN leaves in its diff: whiteouts, opaque directories, hard links, symlinks,
// modes and owners — the same with the overlay and the copy snapshotter, on both executors.
import { mkdirSync, rmSync, writeFileSync, symlinkSync, linkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { CopySnapshotter, OverlaySnapshotter, type Snapshotter } from "../packages/builder/src/snapshot/index.js";
import { IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir, type TreeEntry } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];

/** A second layer over the busybox base, with things the RUN changes. */
function makeDataLayer(dir: string): string {
  for (const d of ["data/sub", "dir2/inner", "keep", "emptied"]) mkdirSync(`${dir}/${d}`, { recursive: true });
  for (const f of ["data/a", "data/b", "data/c", "data/touched", "data/sub/x", "dir2/y", "dir2/inner/z", "keep/file", "emptied/one", "emptied/two"]) {
    writeFileSync(`${dir}/${f}`, `content of ${f}\n`);
  }
  linkSync(`${dir}/data/a`, `${dir}/data/a-link`);
  symlinkSync("sub/x", `${dir}/data/rel-link`);
  return dir;
}

const SCRIPT = [
  "rm /data/a",
  "rm -rf /dir2 && mkdir /dir2 && echo new > /dir2/n",
  "echo changed > /data/b",
  "chmod 600 /data/c",
  "chown 65534:100 /keep/file",
  "ln /data/sub/x /data/sub/x2",
  "ln -s ../data/b /sym",
  "mkdir -p /new/deep && echo hi > /new/deep/f && chmod 4755 /new/deep/f && chown 1:2 /new/deep",
  "mkfifo /fifo",
  "touch -d '2001-02-03 04:05:06' /data/touched",
  "rm /emptied/one /emptied/two",
  "cat /data/rel-link > /dev/null",
].join(" && ");

function withoutTimes(tree: Map<string, TreeEntry>): [string, TreeEntry][] {
  return [...tree.entries()].map(([p, e]) => [p, e.type === "dir" ? { ...e } : e]);
}

describe.skipIf(skip !== undefined).each(executors)("%s executor", (_n, makeExecutor) => {
  let base: string;
  let data: string;
  let ex: Executor;
  const scratches: string[] = [];
  beforeAll(() => {
    base = makeBusyboxSnapshot(tempDir("base"));
    data = makeDataLayer(tempDir("data"));
    ex = makeExecutor();
  });
  afterAll(() => {
    for (const d of [base, data, ...scratches]) rmSync(d, { recursive: true, force: true });
  });

  const trees: Record<string, Map<string, TreeEntry>> = {};
  const diffs: Record<string, string> = {};

  describe.each([["overlay", () => new OverlaySnapshotter()], ["copy", () => new CopySnapshotter()]] as [string, () => Snapshotter][])("%s snapshotter", (name, make) => {
    it("records deletions as whiteouts, replaced dirs as opaque, and changed entries with their metadata", async () => {
      const r = await runStep(ex, make(), [data, base], ["/bin/sh", "-c", SCRIPT]);
      scratches.push(r.scratch);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const t = readTree(r.diff);
      trees[name] = t;
      diffs[name] = r.diff;
      expect(t.get("/data/a")).toMatchObject({ type: "whiteout" });
      // The other name of the deleted file's inode is untouched.
      expect(t.get("/data/a-link")).toBeUndefined();
      expect(t.get("/dir2")).toMatchObject({ type: "dir", opaque: true });
      expect(t.get("/dir2/n")).toMatchObject({ type: "file", size: 4 });
      expect(t.has("/dir2/y") || t.has("/dir2/inner")).toBe(false);
      expect(t.get("/data")).toMatchObject({ type: "dir" });
      expect(t.get("/data")!.opaque).toBeUndefined();
      expect(t.get("/data/b")).toMatchObject({ type: "file", size: 8 });
      expect(t.get("/data/c")).toMatchObject({ type: "file", mode: 0o600 });
      expect(t.get("/keep/file")).toMatchObject({ uid: 65534, gid: 100 });
      expect(t.get("/data/sub/x")).toMatchObject({ type: "file", nlink: 2 });
      expect(t.get("/data/sub/x2")).toMatchObject({ type: "file", nlink: 2, content: t.get("/data/sub/x")!.content });
      expect(t.get("/sym")).toMatchObject({ type: "symlink", link: "../data/b" });
      expect(t.get("/new/deep")).toMatchObject({ type: "dir", uid: 1, gid: 2 });
      expect(t.get("/new/deep/f")).toMatchObject({ type: "file", mode: 0o4755 });
      expect(t.get("/fifo")).toMatchObject({ type: "fifo" });
      expect(t.get("/data/touched")).toMatchObject({ type: "file" });
      expect(t.get("/emptied/one")).toMatchObject({ type: "whiteout" });
      expect(t.get("/emptied/two")).toMatchObject({ type: "whiteout" });
      // Unchanged entries stay out: the other files, the read-only link, the base.
      for (const p of ["/data/rel-link", "/data/sub/x-missing", "/dir2/inner/z", "/bin", "/etc", "/proc", "/dev", "/sys", "/emptied"]) {
        if (p === "/emptied") expect(t.get(p)).toMatchObject({ type: "dir" });
        else expect(t.has(p)).toBe(false);
      }
    });

    it("reads a stack with whiteouts and opaque dirs back as the merged view", async () => {
      const diff = diffs[name]!;
      const r = await runStep(ex, make(), [diff, data, base], ["/bin/sh", "-c", "ls /data /dir2 /emptied; cat /data/b; stat -c '%a %u:%g' /data/c /keep/file"]);
      scratches.push(r.scratch);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe("/data:\na-link\nb\nc\nrel-link\nsub\ntouched\n\n/dir2:\nn\n\n/emptied:\nchanged\n600 0:0\n644 65534:100\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
    });
  });

  it("gives the same diff with both snapshotters", () => {
    expect(trees.overlay).toBeDefined();
    expect(withoutTimes(trees.copy!)).toEqual(withoutTimes(trees.overlay!));
  });
});
