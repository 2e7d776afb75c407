// Several build processes on one store at the same time: four builds of different
// Dockerfiles and two of the same one, all started together, each in its own node process.
// Every build must succeed with the digest a clean build of the same Dockerfile gets in a
// store of its own (SOURCE_DATE_EPOCH makes them comparable), the two identical builds must
// agree, the store must be consistent afterwards, and a rebuild must be fully cached.
// Needs root; uses the built packages (dist/).
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "@tbuild/builder";
import { buildDist, runDriver, startDriver } from "../support/hostile-procs.js";
import { busyboxTar, cloneStore, SDE, seedStore, storeProblems, writeVariant } from "../support/hostile-store.js";
import { sized, Tally } from "../support/hostile-tally.js";

let work: string;
/** A store with busybox imported, copied for every store of the test. */
let template: string;
const ROUNDS = sized(1, 3);

beforeAll(async () => {
  buildDist();
  work = mkdtempSync("/dev/shm/tbuild-hostile-concurrent-");
  template = path.join(work, "template");
  await seedStore(template, busyboxTar(path.join(work, "busybox.tar")));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Manifest digests of clean builds of each context, each alone in a store of its own (two at a time). */
async function cleanDigests(contexts: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const names = Object.keys(contexts);
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(names.slice(i, i + 2).map(async (v) => {
      const root = cloneStore(template, path.join(work, `clean-${v}`));
      out[v] = String((await runDriver({ op: "build", context: contexts[v]!, root, buildArgs: SDE })).manifestDigest);
    }));
  }
  return out;
}

describe("concurrent builds on one store", () => {
  it(`${ROUNDS} round(s) of 4 different and 2 identical builds at once`, async (ctx) => {
    const t = new Tally(ctx, "builds");
    const variants = ["alpha", "bravo", "charlie", "delta", "echo"];
    const contexts = Object.fromEntries(variants.map((v) => [v, writeVariant(path.join(work, `ctx-${v}`), v, 2)]));
    const expected = await cleanDigests(contexts);

    for (let round = 0; round < ROUNDS; round++) {
      const root = cloneStore(template, path.join(work, `shared-${round}`));
      const jobs = [...variants.slice(0, 4), "echo", "echo"];
      const runs = jobs.map((v, i) => ({
        v,
        run: startDriver({ op: "build", context: contexts[v]!, root, buildArgs: SDE, tags: [`${v}:${round}-${i}`] }),
      }));
      for (const { v, run } of runs) {
        await t.check(`round ${round}: ${v}`, async () => {
          const out = await run.done;
          expect(out.error?.message, out.stderr).toBeUndefined();
          expect(out.code).toBe(0);
          expect(out.result?.manifestDigest, `${v} equals its clean build`).toBe(expected[v]);
        });
      }
      await t.check(`round ${round}: the store is consistent`, async () => {
        expect(await storeProblems(root)).toEqual([]);
      });
      await t.check(`round ${round}: a rebuild is fully cached and identical`, async () => {
        const h = build({ context: contexts.alpha!, root, buildArgs: SDE });
        for await (const _ of h) { /* drain */ }
        const r = await h.result;
        expect(r.manifestDigest).toBe(expected.alpha);
        // Metadata steps (ENV, LABEL) change only the config and never count as cached.
        expect(r.steps.filter((s) => !s.cached && /^(RUN|COPY|ADD)\b/.test(s.step.instruction)).map((s) => s.step.instruction)).toEqual([]);
      });
      // One more process-level check: a second process can read what the others wrote.
      await t.check(`round ${round}: another process rebuilds from the shared cache`, async () => {
        const r = await runDriver({ op: "build", context: contexts.delta!, root, buildArgs: SDE });
        expect(r.manifestDigest).toBe(expected.delta);
      });
    }
    t.assertClean();
  }, 600_000);
});
