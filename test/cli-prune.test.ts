// `tbuild prune` and `tbuild du` after real builds: pruning frees the data of untagged
// builds, keeps tagged images whole (they still export and still serve as bases), and
// asks for confirmation only on a terminal without -f. Needs root (the sandbox).

import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool } from "../packages/cli/test-support/build-env.js";
import { cliMain } from "../packages/cli/test-support/run-cli.js";

let env: BuildEnv;
const noGrace = { TBUILD_GC_GRACE: "0" };

beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-prune");
  env.write({
    "kept/Dockerfile": "FROM busybox\nRUN head -c 300000 /dev/urandom > /kept.bin\n",
    "dropped/Dockerfile": "FROM busybox\nRUN head -c 2000000 /dev/urandom > /dropped.bin\n",
  });
  for (const args of [["-t", "kept:1", "kept"], ["dropped"]]) {
    const r = await env.run(["build", "-q", ...args]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
}, 300_000);
afterAll(() => env?.cleanup());

async function du(): Promise<{ total: number; images: number }> {
  const r = await env.run(["du", "--format", "json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("tbuild prune", { timeout: 300_000 }, () => {
  it("asks on a terminal and does nothing when the answer is no", () => {
    if (!haveTool("script")) return;
    const r = spawnSync("script", ["-qec", `${process.execPath} ${cliMain} --root ${env.root} prune --all`, "/dev/null"], {
      input: "n\n",
      encoding: "utf8",
      env: { ...process.env, ...noGrace, NO_COLOR: "1" },
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Are you sure you want to continue? [y/N]");
    expect(r.stdout).toContain("prune cancelled");
    expect(r.stdout).not.toContain("Total reclaimed space");
  });

  it("frees the untagged build's data with --all and keeps the tagged image usable", async () => {
    const before = await du();
    const r = await env.run(["prune", "--all"], { env: noGrace }); // not a terminal: no question
    expect(r.code, r.stderr).toBe(0);
    const m = /^Deleted (\d+) cache records?, (\d+) blobs?, (\d+) snapshots?\nTotal reclaimed space: (\S+)\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![3])).toBeGreaterThan(0);
    const after = await du();
    expect(before.total - after.total).toBeGreaterThan(1_500_000); // the 2 MB layer of the untagged build
    expect(after.images).toBe(before.images);

    // The tagged image survives whole: it exports, and it still works as a base.
    expect((await env.run(["save", "kept:1", "-o", "kept.tar"])).code).toBe(0);
    env.write({ "onkept/Dockerfile": "FROM kept:1\nRUN test -s /kept.bin\n" });
    const b = await env.run(["build", "-q", "onkept"]);
    expect(b.code, b.stderr).toBe(0);
  });

  it("accepts --keep-storage and --filter until=", async () => {
    const r = await env.run(["prune", "-f", "--keep-storage", "1GB", "--filter", "until=24h"], { env: noGrace });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Deleted 0 cache records, /);
  });
});
