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
  if (!last) return "before the first event (parse, store open)";
  if (last.type === "build-start") return "in FROM (base image ingest and unpack)";
  if (last.type === "step-start" || last.type === "step-log") return `in ${last.step!.instruction.split(" ")[0]} (${last.step!.instruction.slice(0, 20)}…)`;
  if (last.type === "step-done" || last.type === "step-cached") return `after ${last.step!.instruction.split(" ")[0]}`;
  return `after ${last.type}`;
}

interface BuildEventLine {
  type: string;
  time: number;
  step?: { instruction: string };
}

/** A span of the build in which a kill lands: `fromMs` to `fromMs + spanMs` after `trigger` (an event). */
interface KillWindow {
  name: string;
  trigger: (e: BuildEventLine) => boolean;
  fromMs: number;
  spanMs: number;
}

/**
 * The kill windows of the build, timed from the events of the clean reference build:
 * base image ingest and unpack, each RUN or COPY with its layer commit, and the tail
 * (image config and manifest, cache records, the image name). Rounds cycle through them so
 * every phase gets kills, not only the longest.
 */
function killWindows(stdout: string): KillWindow[] {
  const events = stdout.split("\n").filter((l) => l.startsWith("event ")).map((l) => JSON.parse(l.slice(6)) as BuildEventLine);
  const at = (pred: (e: BuildEventLine) => boolean) => events.find(pred)?.time;
  const windows: KillWindow[] = [];
  for (const e of events) {
    if (e.type !== "step-start" || !/^(FROM|RUN|COPY)/.test(e.step!.instruction)) continue;
    const inst = e.step!.instruction;
    const done = at((d) => d.type === "step-done" && d.step!.instruction === inst)!;
    const what = inst.startsWith("FROM") ? "FROM (base image ingest and unpack)" : `${inst.split(" ")[0]} and its layer commit`;
    windows.push({ name: what, trigger: (x) => x.type === "step-start" && x.step?.instruction === inst, fromMs: 0, spanMs: done - e.time });
  }
  // The tail is too short to aim at from its own first event (the pipe is slower): aim from
  // the start of the last layer step, around its end and through the image commit.
  const last = windows[windows.length - 1]!;
  const lastDone = Math.max(...events.filter((e) => e.type === "step-done").map((e) => e.time));
  const end = at((e) => e.type === "build-done")!;
  windows.push({ name: "image commit and name", trigger: last.trigger, fromMs: Math.round(last.spanMs * 0.9), spanMs: Math.round(last.spanMs * 0.2) + (end - lastDone) + 30 });
  return windows;
}

/** Resolves when the victim prints an event matching `pred` (true), or exits first (false). */
function eventSeen(victim: ReturnType<typeof startDriver>, pred: (e: BuildEventLine) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = "";
    const onData = (d: string) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith("event ") && pred(JSON.parse(l.slice(6)))) {
          victim.child.stdout!.off("data", onData);
          resolve(true);
          return;
        }
      }
    };
    victim.child.stdout!.on("data", onData);
    void victim.done.then(() => resolve(false));
  });
}

describe("kill -9 of build processes", () => {
  it(`${KILLS} builds killed at random points; every next build succeeds with the clean image`, async (ctx) => {
    const t = new Tally(ctx, "kills");
    const clean = cloneStore(template, path.join(work, "clean"));
    const ref = await startDriver({ ...spec(clean), events: true }).done;
    expect(ref.code, ref.stderr).toBe(0);
    const reference = String(ref.result!.manifestDigest);
    const windows = killWindows(ref.stdout);
    const root = cloneStore(template, path.join(work, "shared"));
    const phases = new Map<string, number>();

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
        const window = windows[round % windows.length]!;
        const victim = startDriver({ ...spec(root), events: true, noCache: round % 2 === 1 });
        if (await eventSeen(victim, window.trigger)) {
          await new Promise((r) => setTimeout(r, window.fromMs + Math.random() * window.spanMs));
          victim.child.kill("SIGKILL");
        }
        const killed = await victim.done;
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
    console.log(`kill -9: ${KILLS} kills; windows ${windows.map((w) => `${w.name} +${w.fromMs}..${w.fromMs + w.spanMs} ms`).join(", ")}; where they landed:\n${[...phases].map(([p, n]) => `  ${n} × ${p}`).join("\n")}`);
    t.assertClean();
  }, 1_800_000);
});
