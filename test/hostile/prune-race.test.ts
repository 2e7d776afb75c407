// `prune --all` from another process, in a tight loop with no grace period, while builds run
// on the same store: whatever a running build uses (its base image's snapshots, the layers
// it reuses from the cache, what it has just committed and not yet recorded) must survive,
// so every build succeeds with the digest of a clean build, and every tagged result stays
// whole. Builds run in their own processes, two at a time, cold and warm. Needs root; uses
// the built packages (dist/).
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDist, runDriver, startDriver } from "../support/hostile-procs.js";
import { busyboxTar, cloneStore, SDE, seedStore, storeProblems, writeVariant } from "../support/hostile-store.js";
import { sized, Tally } from "../support/hostile-tally.js";

const BUILDS = sized(6, 24);
let work: string;
let template: string;

beforeAll(async () => {
  buildDist();
  work = mkdtempSync("/dev/shm/tbuild-hostile-prune-");
  template = path.join(work, "template");
  await seedStore(template, busyboxTar(path.join(work, "busybox.tar")));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("prune racing builds", () => {
  it(`${BUILDS} builds while another process prunes --all in a loop`, async (ctx) => {
    const t = new Tally(ctx, "builds");
    const variants = ["papa", "quebec"];
    const contexts = Object.fromEntries(variants.map((v) => [v, writeVariant(path.join(work, `ctx-${v}`), v, 2)]));
    const expected: Record<string, string> = {};
    for (const v of variants) {
      const clean = cloneStore(template, path.join(work, `clean-${v}`));
      expected[v] = String((await runDriver({ op: "build", context: contexts[v]!, root: clean, buildArgs: SDE })).manifestDigest);
    }

    const root = cloneStore(template, path.join(work, "shared"));
    const pruner = startDriver({ op: "prune-loop", root, intervalMs: 5 });
    await pruner.ready;
    try {
      for (let i = 0; i < BUILDS; i += 2) {
        // Two at a time; every third pair rebuilds without the cache so that builds and
        // prunes also race on fresh layers, the others reuse whatever survived.
        const noCache = i % 6 === 4;
        const pair = variants.map((v, j) => ({
          v, tag: `${v}:${i + j}`,
          run: startDriver({ op: "build", context: contexts[v]!, root, buildArgs: SDE, noCache, tags: [`${v}:${i + j}`] }),
        }));
        for (const { v, tag, run } of pair) {
          await t.check(`build ${tag}${noCache ? " (no cache)" : ""}`, async () => {
            const out = await run.done;
            expect(out.error?.message, out.stderr).toBeUndefined();
            expect(out.result?.manifestDigest).toBe(expected[v]);
          });
        }
      }
    } finally {
      pruner.child.kill("SIGTERM");
    }
    const pruned = await pruner.done;
    const prunes = Number(pruned.result?.prunes ?? 0);
    console.log(`prune race: ${BUILDS} builds during ${prunes} prunes`);
    await t.check("the pruner kept pruning and exited cleanly", () => {
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(prunes).toBeGreaterThan(BUILDS);
    });
    await t.check("every tagged image is whole and the store is consistent", async () => {
      expect(await storeProblems(root)).toEqual([]);
    });
    t.recount(BUILDS);
    t.assertClean();
  }, 600_000);
});
