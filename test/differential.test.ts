// The differential suite: every case under test/differential/cases is built by tbuild and
// compared, field by field, with what BuildKit built from the same Dockerfile on the same
// base image (test/differential/golden, made by test/differential/regen.sh): the config
// fields a Dockerfile controls, the history, and the flattened file tree (path, type, mode,
// owner, size, content digest, link target) as a difference from the base image.
// Needs root (sandboxed RUN steps) and Debian's busybox-static.
import { chmodSync, readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "@tbuild/builder";
import { differentialStore, repo, type DifferentialStore } from "./support/differential-store.js";
// @ts-expect-error plain JS helper shared with the golden generator
import { describeImage } from "./support/image-tree.mjs";

const casesDir = path.join(repo, "test/differential/cases");
const goldenDir = path.join(repo, "test/differential/golden");
const cases = readdirSync(casesDir).filter((c) => existsSync(path.join(goldenDir, `${c}.json`))).sort();

let store: DifferentialStore;
let work: string;
let root: string;
let rootfsTar: string;

beforeAll(async () => {
  store = await differentialStore("tbuild-diff");
  ({ work, root, rootfsTar } = store);
});

afterAll(() => store?.dispose());

interface CaseSpec {
  context?: string;
  /** File modes git cannot carry (it keeps only the executable bit), set before building. */
  modes?: Record<string, string>;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Secrets for RUN --mount=type=secret: id → file, relative to the case directory. */
  secrets?: Record<string, string>;
}

describe("differential: tbuild vs BuildKit goldens", () => {
  it.each(cases)("%s", async (name) => {
    const dir = path.join(casesDir, name);
    const spec: CaseSpec = existsSync(path.join(dir, "case.json")) ? JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) : {};
    const context = spec.context ? path.join(repo, spec.context) : dir;
    for (const [file, mode] of Object.entries(spec.modes ?? {})) chmodSync(path.join(context, file), parseInt(mode, 8));
    const out = path.join(work, `${name}.tar`);
    const handle = build({
      context,
      root,
      buildArgs: spec.buildArgs,
      target: spec.target,
      secrets: Object.entries(spec.secrets ?? {}).map(([id, file]) => ({ id, src: path.join(dir, file) })),
      network: "none",
      outputs: [{ type: "oci", dest: out }],
    });
    await handle.result;
    const golden = JSON.parse(readFileSync(path.join(goldenDir, `${name}.json`), "utf8"));
    const ours = await describeImage(out, rootfsTar);
    expect(ours.architecture).toBe(golden.architecture);
    expect(ours.os).toBe(golden.os);
    expect(ours.author).toBe(golden.author);
    expect(ours.config).toEqual(golden.config);
    // The base image's own history entries differ (docker import vs tbuild import).
    expect(ours.history.slice(1)).toEqual(golden.history.slice(1));
    expect(ours.tree).toEqual(golden.tree);
    expect(ours.removed).toEqual(golden.removed);
  });
});
