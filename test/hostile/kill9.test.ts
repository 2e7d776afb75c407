// SIGKILL of a build process at a random moment, again and again, on one store: while it
// ingests and unpacks the base image from an OCI layout, runs steps, writes layer blobs,
// commits snapshots, records cache entries, writes the image. After every kill the next
// build must succeed and give exactly the image a clean build gives (manifest digest, with
// SOURCE_DATE_EPOCH), the store must be consistent (every blob verifies, temp files of the
// dead process are gone after the next open), and no process or mount of the killed build
// may survive. Every other round untags and prunes first so the kills also land on cold
// paths (ingest, unpack), the others rebuild with --no-cache. 50 kills under `npm run test:hostile`, 6 inside `npm test`.
// Needs root; uses the built packages (dist/).
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Store } from "@tbuild/cache";
import { buildDist, eventually, mountsMentioning, processesWith, runDriver, startDriver } from "../support/hostile-procs.js";
import { busyboxTar, cloneStore, SDE, seedStore, storeProblems } from "../support/hostile-store.js";
import { rawTar, writeOciLayout } from "../support/hostile-tar.js";
import { sized, Tally } from "../support/hostile-tally.js";
import { writeTree } from "../support/hostile-build.js";

const KILLS = sized(6, 50);
const MARKER = `kill9marker${process.pid}`;
let work: string;
let template: string;
let layout: string;
let ctxDir: string;

beforeAll(async () => {
  buildDist();
  work = mkdtempSync("/dev/shm/tbuild-hostile-kill9-");
  const tar = busyboxTar(path.join(work, "busybox.tar"));
  template = path.join(work, "template");
  await seedStore(template, tar);
  layout = path.join(work, "layout");
  // A second base layer with 8 MB of data makes ingest and unpack a real share of the build.
  writeOciLayout(layout, [readFileSync(tar), rawTar([{ name: "opt/base-data/blob", body: Buffer.alloc(8 << 20, 0x62) }, { name: "opt/base-data/small", body: "x\n" }])], "base");
  const files: Record<string, string> = {
    Dockerfile: [
      "FROM base",
      `RUN echo ${MARKER} && mkdir /data && head -c 4000000 /dev/zero | tr '\\0' k > /data/big`,
      "COPY files/ /files/",
      `RUN echo ${MARKER} && find /files -type f | sort | xargs cat | sha256sum > /files.sum`,
      "ENV DONE=1",
      "",
    ].join("\n"),
  };
  for (let i = 0; i < 30; i++) files[`files/d${i % 5}/f${i}`] = `file ${i}\n`.repeat(50 + i);
  ctxDir = writeTree(path.join(work, "ctx"), files);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const spec = (root: string) => ({
  op: "build" as const,
  context: ctxDir,
  root,
  buildArgs: SDE,
  buildContexts: { base: `oci-layout://${layout}:base` },
  tags: ["killed:latest"],
});

/** The last build event a killed process printed: where the kill landed. */
function phaseOf(stdout: string): string {
  const events = stdout.split("\n").filter((l) => l.startsWith("event ")).map((l) => JSON.parse(l.slice(6)) as { type: string; step?: { instruction: string } });
  const last = events[events.length - 1];
  if (!last) return "before the first event (parse, store open, base image ingest)";
  if (last.type === "step-start" || last.type === "step-log") return `in ${last.step!.instruction.split(" ")[0]} (${last.step!.instruction.slice(0, 20)}…)`;
  if (last.type === "step-done" || last.type === "step-cached") return `after ${last.step!.instruction.split(" ")[0]}`;
  return `after ${last.type}`;
}

describe("kill -9 of build processes", () => {
  it(`${KILLS} builds killed at random points; every next build succeeds with the clean image`, async (ctx) => {
    const t = new Tally(ctx, "kills");
    const clean = cloneStore(template, path.join(work, "clean"));
    const t0 = Date.now();
    const reference = String((await runDriver(spec(clean))).manifestDigest);
    const fullMs = Date.now() - t0;
    const root = cloneStore(template, path.join(work, "shared"));
    const phases = new Map<string, number>();
    // How long a victim build runs after "ready", per mode (cold, --no-cache): starts at the
    // clean build's time and follows the victims that finished before their kill.
    const estimate = [fullMs, fullMs];

    // Rounds whose build finished before its kill do not count; they still check the store.
    let kills = 0;
    for (let round = 0; kills < KILLS && round < 3 * KILLS; round++) {
      await t.check(`round ${round}`, async () => {
        // Even rounds start cold (untagged, pruned: ingest and unpack again), odd rounds
        // rebuild every step over the cached base (--no-cache).
        if (round % 2 === 0) {
          const store = await Store.open(root, { gracePeriodMs: 0 });
          await store.deleteImage("docker.io/library/killed:latest");
          await store.prune({ all: true });
          await store.close();
        }
        const victim = startDriver({ ...spec(root), events: true, noCache: round % 2 === 1 });
        await victim.ready;
        const started = Date.now();
        await new Promise((r) => setTimeout(r, Math.random() * estimate[round % 2]!));
        victim.child.kill("SIGKILL");
        const killed = await victim.done;
        if (killed.signal !== "SIGKILL") estimate[round % 2] = Date.now() - started;
        const phase = killed.signal === "SIGKILL" ? phaseOf(killed.stdout) : "finished before the kill";
        phases.set(phase, (phases.get(phase) ?? 0) + 1);
        if (killed.signal === "SIGKILL") kills++;

        const next = await runDriver(spec(root));
        expect(next.manifestDigest, `the build after round ${round} (${phase})`).toBe(reference);
        expect(await storeProblems(root)).toEqual([]);
        await eventually(() => processesWith(MARKER).length === 0, "no process of the killed build");
        expect(mountsMentioning(root)).toEqual([]);
      });
    }
    // The summary counts kills, not rounds.
    t.recount(kills);
    expect(kills).toBe(KILLS);
    console.log(`kill -9: ${KILLS} kills over a ${fullMs} ms build; where they landed:\n${[...phases].map(([p, n]) => `  ${n} × ${p}`).join("\n")}`);
    t.assertClean();
  }, 1_800_000);
});
