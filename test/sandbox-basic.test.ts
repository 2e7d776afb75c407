// End-to-end checks of both executors on both snapshotters, as root, with a busybox rootfs.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuncExecutor, UnshareExecutor, type Executor } from "../packages/builder/src/sandbox/index.js";
import { CopySnapshotter, OverlaySnapshotter, type Snapshotter } from "../packages/builder/src/snapshot/index.js";
import { IN_CI, makeBusyboxSnapshot, readTree, runStep, sandboxUnavailable, tempDir } from "./sandbox-helpers.js";

const skip = sandboxUnavailable();
if (skip && IN_CI) throw new Error(`sandbox tests cannot run in CI: ${skip}`);

const executors: [string, () => Executor][] = [
  ["unshare", () => UnshareExecutor.create()],
  ["runc", () => RuncExecutor.create()],
];
const snapshotters: [string, () => Snapshotter][] = [
  ["overlay", () => new OverlaySnapshotter()],
  ["copy", () => new CopySnapshotter()],
];

describe.skipIf(skip !== undefined).each(executors)("%s executor", (_n, makeExecutor) => {
  describe.each(snapshotters)("%s snapshotter", (_s, makeSnapshotter) => {
    let base: string;
    let ex: Executor;
    let snap: Snapshotter;
    beforeAll(() => {
      base = makeBusyboxSnapshot(tempDir("base"));
      ex = makeExecutor();
      snap = makeSnapshotter();
    });
    afterAll(() => rmSync(base, { recursive: true, force: true }));

    it("runs a command and returns its output and exit code", async () => {
      const r = await runStep(ex, snap, [base], ["/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"]);
      expect(r.exitCode).toBe(3);
      expect(r.stdout).toBe("hello\n");
      expect(r.stderr).toBe("oops\n");
      expect([...readTree(r.diff).keys()]).toEqual([]);
      rmSync(r.scratch, { recursive: true, force: true });
    });
  });
});
