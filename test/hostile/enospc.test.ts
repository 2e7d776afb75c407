// A full disk: the store on a 24 MB tmpfs of its own. Builds that run out of space — a
// COPY of a big context file, a RUN writing more than fits, a layer whose tar no longer fits
// next to its snapshot, an export to an archive inside the store's filesystem — must fail
// with a clear "no space left" message, give back the space they took (nothing left in the
// store's tmp/), and leave the store consistent. After space is freed (the tmpfs grown) the
// same builds succeed on the same store. Needs root (mount).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, type BuildOptions } from "@tbuild/builder";
import { Store } from "@tbuild/cache";
import { mountsMentioning } from "../support/hostile-procs.js";
import { busyboxTar, SDE, seedStore, storeProblems } from "../support/hostile-store.js";
import { Tally } from "../support/hostile-tally.js";

let work: string;
let mnt: string;
let root: string;
let mounted = false;
/** The error message of each full-disk case, for the test of their wording. */
const messages = new Map<string, string>();

beforeAll(async () => {
  work = mkdtempSync("/dev/shm/tbuild-hostile-enospc-");
  mnt = path.join(work, "disk");
  mkdirSync(mnt);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m,mode=0755", "tbuild-enospc", mnt]);
  mounted = true;
  root = path.join(mnt, "store");
  await seedStore(root, busyboxTar(path.join(work, "busybox.tar")));
});
afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", mnt]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const usedBytes = () => {
  const s = statfsSync(mnt);
  return (s.blocks - s.bfree) * s.bsize;
};

/** What the store accounts for (blobs, snapshots, records) after a prune --all. */
async function accounted(): Promise<number> {
  const s = await Store.open(root, { gracePeriodMs: 0 });
  try {
    return (await s.du()).total;
  } finally {
    await s.close();
  }
}

async function tryBuild(opts: Omit<BuildOptions, "root">): Promise<Error | undefined> {
  try {
    const h = build({ ...opts, root });
    for await (const _ of h) { /* drain */ }
    await h.result;
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

function context(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [p, c] of Object.entries(files)) writeFileSync(path.join(dir, p), c);
  return dir;
}

describe("a full disk under the store", () => {
  it("fails builds clearly, gives the space back, and the store works once space is freed", async (ctx) => {
    const t = new Tally(ctx, "faults");
    const big = Buffer.alloc(30 << 20, 0x61);
    const cases: [string, Omit<BuildOptions, "root">][] = [
      ["COPY of a file bigger than the disk", { context: context("copy", { Dockerfile: "FROM busybox\nCOPY big.bin /big.bin\n", "big.bin": big }) }],
      ["RUN writing more than fits", { context: context("run", { Dockerfile: "FROM busybox\nRUN dd if=/dev/zero of=/fill bs=1M count=30\n" }) }],
      ["a layer whose stored tar no longer fits (SOURCE_DATE_EPOCH)", { context: context("tar", { Dockerfile: "FROM busybox\nRUN head -c 9437184 /dev/zero | tr '\\0' z > /a && head -c 9437184 /dev/zero | tr '\\0' y > /b\n" }), buildArgs: SDE }],
      ["an archive export", { context: context("export", { Dockerfile: "FROM busybox\nRUN head -c 9437184 /dev/urandom > /r\n" }), outputs: [{ type: "oci", dest: path.join(mnt, "out.oci.tar") }] }],
    ];
    // Bytes on the disk that the store's own usage accounting does not cover (metadata).
    const unaccounted = usedBytes() - (await accounted());
    for (const [name, opts] of cases) {
      await t.check(`${name}: fails with a clear message`, async () => {
        const err = await tryBuild(opts);
        expect(err, "the build should fail").toBeDefined();
        messages.set(name, err!.message);
        // A RUN's own "No space left on device" is in its output, as with BuildKit.
        const tail = (err as { outputTail?: string[] }).outputTail?.join("\n") ?? "";
        expect(`${err!.message}\n${tail}`).toMatch(/no space left on device/i);
        expect(err!.message).not.toMatch(/\n\s+at /);
      });
      await t.check(`${name}: gives the space back`, async () => {
        // Reopening runs recovery for anything a failed writer could not remove itself.
        expect(await storeProblems(root)).toEqual([]);
        rmSync(path.join(mnt, "out.oci.tar"), { force: true });
        // What the failed build committed (layers, compressed blobs) is cache and may stay;
        // once pruned, the disk is back where it was: nothing leaked outside the store's books.
        const s = await Store.open(root, { gracePeriodMs: 0 });
        await s.prune({ all: true });
        await s.close();
        expect(readdirSync(mnt)).toEqual(["store"]);
        expect(usedBytes() - (await accounted())).toBeLessThan(unaccounted + (256 << 10));
        expect(mountsMentioning(mnt).length).toBe(1);
      });
    }

    execFileSync("mount", ["-o", "remount,size=160m", mnt]);
    for (const [name, opts] of cases) {
      await t.check(`${name}: builds once space is freed`, async () => {
        const err = await tryBuild(opts);
        expect(err?.message).toBeUndefined();
      });
    }
    await t.check("the store is consistent at the end", async () => {
      expect(await storeProblems(root)).toEqual([]);
    });
    t.assertClean();
  }, 300_000);

  // Fixed (cache BlobWriter, builder exports): write errors of a full disk name the store
  // or the destination file.
  it("say which disk is full", () => {
    expect(messages.size).toBeGreaterThan(0);
    const vague = [...messages].filter(([name, message]) => !name.startsWith("RUN") && !message.includes(mnt));
    expect(vague.map(([name, message]) => `${name}: "${message}"`)).toEqual([]);
  });
});
