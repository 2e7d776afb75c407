// The differential suite built through the remote backend: every case of
// test/differential/cases is converted to LLB by tbuild and solved by Docker's embedded
// BuildKit (`builder: docker://…`, loaded into Docker under a tag), saved with `docker save`
// and compared field by field with the golden that `docker build` of the same Dockerfile
// made on the same base image (test/differential/golden). The local build is compared with
// the same goldens by test/differential.test.ts, so the three agree.
// Needs root and docker.io (dockerd 20.10; started if not running).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "@tbuild/builder";
import { repo } from "./support/differential-store.js";
import { DOCKER_BUILDER, docker, dockerPeerMissing, ensureDockerPeer } from "./support/docker-peer.js";
// @ts-expect-error plain JS helper shared with the golden generator
import { describeImage } from "./support/image-tree.mjs";

const missing = dockerPeerMissing();
const casesDir = path.join(repo, "test/differential/cases");
const goldenDir = path.join(repo, "test/differential/golden");
const cases = readdirSync(casesDir).filter((c) => existsSync(path.join(goldenDir, `${c}.json`))).sort();

interface CaseSpec {
  context?: string;
  modes?: Record<string, string>;
  buildArgs?: Record<string, string>;
  target?: string;
  secrets?: Record<string, string>;
}

let work: string;
beforeAll(() => {
  if (missing) return;
  work = mkdtempSync("/dev/shm/tbuild-remote-diff-");
  ensureDockerPeer(work);
  docker("save", "tbuild-fixture/busybox:latest", "-o", path.join(work, "base.tar"));
});
afterAll(() => work && rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing)(`differential through --builder docker:// ${missing ? `(skipped: ${missing})` : ""}`, () => {
  it.each(cases)("%s", async (name) => {
    const dir = path.join(casesDir, name);
    const spec: CaseSpec = existsSync(path.join(dir, "case.json")) ? JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) : {};
    const context = spec.context ? path.join(repo, spec.context) : dir;
    for (const [file, mode] of Object.entries(spec.modes ?? {})) chmodSync(path.join(context, file), parseInt(mode, 8));
    const tag = `tbuild-remote/${name}:latest`;
    const handle = build({
      context,
      builder: DOCKER_BUILDER,
      tags: [tag],
      buildArgs: spec.buildArgs,
      target: spec.target,
      secrets: Object.entries(spec.secrets ?? {}).map(([id, file]) => ({ id, src: path.join(dir, file) })),
      network: "none",
    });
    const result = await handle.result;
    expect(result.remote?.builder).toBe(DOCKER_BUILDER);
    const out = path.join(work, `${name}.tar`);
    docker("save", tag, "-o", out);
    const golden = JSON.parse(readFileSync(path.join(goldenDir, `${name}.json`), "utf8"));
    const ours = await describeImage(out, path.join(work, "base.tar"));
    expect(ours.architecture).toBe(golden.architecture);
    expect(ours.os).toBe(golden.os);
    expect(ours.author).toBe(golden.author);
    expect(ours.config).toEqual(golden.config);
    expect(ours.history).toEqual(golden.history);
    expect(ours.tree).toEqual(golden.tree);
    expect(ours.removed).toEqual(golden.removed);
  });
});
