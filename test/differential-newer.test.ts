// The differential suite's second half: features newer than the BuildKit the goldens come
// from (dockerd 20.10 embeds BuildKit 0.8: no heredocs, COPY --parents, --exclude or
// --link). For each case under test/differential/newer, expected.json records what BuildKit
// gives according to its documentation and source (cited in the file's "sources"), as
// entries of the same flattened tree the golden comparison reads (test/support/image-tree.mjs):
// each listed path must be there with the listed fields (type, mode, uid, gid, content),
// and under each "complete" directory nothing else may be. Needs root (sandboxed RUN steps)
// and Debian's busybox-static.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "@tbuild/builder";
import { differentialStore, repo, type DifferentialStore } from "./support/differential-store.js";
// @ts-expect-error plain JS helper shared with the golden generator
import { describeImage } from "./support/image-tree.mjs";

const casesDir = path.join(repo, "test/differential/newer");
const cases = readdirSync(casesDir).filter((c) => existsSync(path.join(casesDir, c, "expected.json"))).sort();

interface ExpectedEntry {
  type: string;
  mode?: string;
  uid?: number;
  gid?: number;
  content?: string;
  link?: string;
}
interface Expected {
  sources: string[];
  complete?: string[];
  entries: Record<string, ExpectedEntry>;
  absent?: string[];
}

let store: DifferentialStore;
let work: string;
let root: string;
let rootfsTar: string;

beforeAll(async () => {
  store = await differentialStore("tbuild-diff-newer");
  ({ work, root, rootfsTar } = store);
});

afterAll(() => store?.dispose());

describe("differential: tbuild vs BuildKit's documented behaviour (features newer than 0.8)", () => {
  it.each(cases)("%s", async (name) => {
    const dir = path.join(casesDir, name);
    const expected: Expected = JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8"));
    expect(expected.sources.length).toBeGreaterThan(0);
    const out = path.join(work, `${name}.tar`);
    await build({ context: dir, root, network: "none", outputs: [{ type: "oci", dest: out }] }).result;
    const ours = await describeImage(out, rootfsTar);
    // Rows: [path, type, mode, uid, gid, size, sha256, link, dev]
    const tree = new Map<string, unknown[]>((ours.tree as unknown[][]).map((r) => [r[0] as string, r]));
    const got: Record<string, ExpectedEntry> = {};
    for (const [p, want] of Object.entries(expected.entries)) {
      const row = tree.get(p);
      if (!row) {
        got[p] = { type: "(missing)" };
        continue;
      }
      const [, type, mode, uid, gid, , sha256, link] = row as [string, string, string, number, number, number, string, string];
      const seen: ExpectedEntry = { type };
      if (want.mode !== undefined) seen.mode = mode;
      if (want.uid !== undefined) seen.uid = uid;
      if (want.gid !== undefined) seen.gid = gid;
      if (want.link !== undefined) seen.link = link;
      if (want.content !== undefined) {
        seen.content = sha256 === createHash("sha256").update(want.content).digest("hex") ? want.content : `(sha256 ${sha256})`;
      }
      got[p] = seen;
    }
    expect(got).toEqual(expected.entries);
    for (const top of expected.complete ?? []) {
      const under = (p: string) => p === top || p.startsWith(top + "/");
      expect([...tree.keys()].filter(under).sort(), `everything under /${top}`).toEqual(Object.keys(expected.entries).filter(under).sort());
    }
    for (const p of expected.absent ?? []) expect(tree.has(p), `/${p} absent`).toBe(false);
  });
});
