// The time-of-check/time-of-use race of a build context: the context is walked and hashed,
// then — before COPY reads it — a file is swapped for a symlink to a host secret, for a hard
// link to it, or a directory for a symlink to the secret's directory. The copy must notice
// (the file it opens is not the one it indexed) and refuse, and the secret must not reach
// the layer. Drives the file operations directly (hashContext → selectSources → swap →
// copy), so the swap lands exactly between the two. Needs root (chown in the copy).
import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copy, LayeredView, selectSources } from "@tbuild/builder";
import { hashContext } from "@tbuild/cache";
import { findInTree, plantCanary, type Canary } from "../support/hostile-host.js";
import { Tally } from "../support/hostile-tally.js";

let work: string;
let canary: Canary;

beforeAll(() => {
  work = mkdtempSync("/dev/shm/tbuild-hostile-race-");
  mkdirSync(path.join(work, "canary"));
  canary = plantCanary(path.join(work, "canary"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;

/** Indexes a fresh context, lets `swap` change it, then copies `sources` from the index. */
async function raceCopy(sources: string[], swap: (ctx: string) => void): Promise<{ err?: Error & { code?: string }; layer: string }> {
  const ctx = path.join(work, `ctx${n}`);
  const layer = path.join(work, `layer${n++}`);
  mkdirSync(path.join(ctx, "dir"), { recursive: true });
  mkdirSync(layer);
  writeFileSync(path.join(ctx, "a.txt"), "indexed content\n");
  // Enough files that the copy goes through its worker threads.
  for (let i = 0; i < 200; i++) writeFileSync(path.join(ctx, "dir", `secret.txt${i === 0 ? "" : i}`), `file ${i}\n`);
  const index = await hashContext(ctx, { statCache: false });
  const from = { kind: "context" as const, index };
  const selected = await selectSources(from, sources, { parents: false, excludes: [] });
  swap(ctx);
  try {
    await copy({
      op: "copy", sources, heredocs: [], dest: "/out/", workdir: "/", from, link: false, parents: false, excludes: [],
      target: { view: new LayeredView([]), layerDir: layer }, selected,
    });
    return { layer };
  } catch (e) {
    return { err: e as Error & { code?: string }, layer };
  } finally {
    // The attacker's own hard link to the canary goes with the context.
    rmSync(ctx, { recursive: true, force: true });
  }
}

describe("a context changed between hashing and copying", () => {
  it("never lets the copy read outside the context", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const cases: [string, string[], (c: string) => void][] = [
      ["a file swapped for a symlink to a host file", ["a.txt"], (c) => {
        rmSync(path.join(c, "a.txt"));
        symlinkSync(canary.file, path.join(c, "a.txt"));
      }],
      ["a file swapped for a hard link to a host file", ["a.txt"], (c) => {
        rmSync(path.join(c, "a.txt"));
        linkSync(canary.file, path.join(c, "a.txt"));
      }],
      ["a directory swapped for a symlink to a host directory", ["dir"], (c) => {
        renameSync(path.join(c, "dir"), path.join(c, "dir.old"));
        symlinkSync(canary.dir, path.join(c, "dir"));
      }],
      ["a file in a copied directory swapped for a symlink", ["dir"], (c) => {
        rmSync(path.join(c, "dir/secret.txt"));
        symlinkSync(canary.file, path.join(c, "dir/secret.txt"));
      }],
    ];
    for (const [name, sources, swap] of cases) {
      await t.check(name, async () => {
        const { err, layer } = await raceCopy(sources, swap);
        expect(findInTree(layer, canary.token)).toEqual([]);
        expect(err?.message, "the copy must refuse the changed file").toMatch(/changed|replaced/);
        canary.verify();
      });
    }
    t.assertClean();
  });
});
