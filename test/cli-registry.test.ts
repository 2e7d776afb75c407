// `tbuild push`, `tbuild pull` and `build --push` against a real registry (Debian's
// docker-registry on a free loopback port), checked with skopeo. Needs root (sandbox).

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool } from "../packages/cli/test-support/build-env.js";
import { tbuild } from "../packages/cli/test-support/run-cli.js";
import { type RunningRegistry, startRegistry } from "./support/registry.js";

let env: BuildEnv;
let reg: RunningRegistry;

beforeAll(async () => {
  haveTool("docker-registry");
  reg = await startRegistry();
  env = await createBuildEnv("tbuild-cli-registry");
  env.write({ "app/Dockerfile": "FROM busybox\nRUN echo pushed > /pushed.txt\nCMD [\"cat\", \"/pushed.txt\"]\n" });
  const r = await env.run(["build", "-q", "-t", "app:1", "app"]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 300_000);
afterAll(async () => {
  await reg?.stop();
  env?.cleanup();
});

async function inspect(root: string, ref: string) {
  const r = await tbuild(["--root", root, "inspect", ref]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0] as { Id: string; Digest: string };
}

function skopeoDigest(ref: string): string {
  return JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })).Digest;
}

describe("push and pull", { timeout: 300_000 }, () => {
  it("pushes a stored image unchanged and pulls it into a fresh store", async () => {
    const remote = `${reg.host}/team/app:1`;
    expect((await env.run(["tag", "app:1", remote])).code).toBe(0);
    const local = await inspect(env.root, remote);
    const p = await env.run(["push", remote]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(`1: digest: ${local.Digest} size: ${p.stdout.match(/size: (\d+)/)?.[1]}\n`);
    if (haveTool("skopeo")) expect(skopeoDigest(remote)).toBe(local.Digest);

    // Pushing again uploads nothing.
    const again = await env.run(["push", remote]);
    expect(again.stderr).toMatch(/blobs: 0 uploaded/);

    const fresh = join(env.dir, "fresh");
    const pull = await tbuild(["--root", fresh, "pull", remote]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toBe(`${remote}\n`);
    const pulled = await inspect(fresh, remote);
    expect(pulled.Id).toBe(local.Id);
    expect(pulled.Digest).toBe(local.Digest);

    // The pulled image is a working base in a store that never saw busybox.
    env.write({ "onpulled/Dockerfile": `FROM ${remote}\nRUN cat /pushed.txt\n` });
    const b = await tbuild(["--root", fresh, "build", "--progress", "plain", "onpulled"], { cwd: env.dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/^#\d+ \d+\.\d{3} pushed$/m);

    // Pushed to another repository of that registry, the base's two layers are mounted from
    // the repository they were pulled from; only the new layer and the config are uploaded.
    const other = `${reg.host}/other/onpulled:1`;
    expect((await tbuild(["--root", fresh, "build", "-q", "-t", other, "onpulled"], { cwd: env.dir })).code).toBe(0);
    const pushed = await tbuild(["--root", fresh, "push", other]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toMatch(/blobs: 2 uploaded, 0 already present, 2 mounted/);
    if (haveTool("skopeo")) expect(skopeoDigest(other)).toBe((await inspect(fresh, other)).Digest);
  });

  it("pushes every tag with build --push", async () => {
    const tags = [`${reg.host}/team/built:1`, `${reg.host}/team/built:latest`];
    const r = await env.run(["build", "--progress", "plain", "--push", "-t", tags[0]!, "-t", tags[1]!, "app"]);
    expect(r.code, r.stderr).toBe(0);
    if (haveTool("skopeo")) {
      expect(skopeoDigest(tags[0]!)).toBe(skopeoDigest(tags[1]!));
    }
    // --push also keeps the image in the local store.
    expect((await env.run(["inspect", tags[0]!])).code).toBe(0);
  });

  it("fails with exit 1 for a missing remote image or an unknown local one", async () => {
    const missing = await env.run(["pull", `${reg.host}/team/nope:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ERROR: .*nope/m);
    const unknown = await env.run(["push", `${reg.host}/team/never-built:1`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not found in the local store/);
    const bad = await env.run(["push", "Bad/Ref"]);
    expect(bad.code).toBe(2);
  });
});
