// Moving images in and out of the store with the real builder: `import` of a busybox
// root filesystem, `save` (OCI and docker archives, checked by skopeo and umoci) and
// `load` back into a fresh store with the same digests. Needs root (the build sandbox).

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv, haveTool } from "../packages/cli/test-support/build-env.js";
import { tbuild } from "../packages/cli/test-support/run-cli.js";

let env: BuildEnv;
beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-io");
  env.write({ "app/Dockerfile": "FROM busybox\nRUN echo built > /built.txt\nENV MODE=test\n" });
  const r = await env.run(["build", "-q", "-t", "app:1", "app"]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 300_000);
afterAll(() => env?.cleanup());

async function inspect(root: string, ref: string) {
  const r = await tbuild(["--root", root, "inspect", ref]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout)[0] as { Id: string; Digest: string; Config: Record<string, unknown>; RootFS: { Layers: string[] }; ImageConfig: { history: { comment?: string }[] } };
}

describe("tbuild import", { timeout: 300_000 }, () => {
  it("makes a one-layer image with a default PATH and no Cmd, printing its ID", async () => {
    const img = await inspect(env.root, "busybox");
    expect(img.RootFS.Layers).toHaveLength(1);
    expect(img.Config.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    expect(img.Config.Cmd ?? null).toBeNull();

    const r = await env.run(["import", "--change", 'CMD ["sh"]', "--change", "ENV LANG=C.UTF-8", "-m", "from the test", env.busyboxTar, "bb:changed"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const changed = await inspect(env.root, "bb:changed");
    expect(changed.Id).toBe(r.stdout.trim());
    expect(changed.Config.Cmd).toEqual(["sh"]);
    expect(changed.Config.Env).toContain("LANG=C.UTF-8");
    expect(changed.ImageConfig.history.at(-1)!.comment).toBe("from the test");
    // Same tarball, same layer.
    expect(changed.RootFS.Layers).toEqual(img.RootFS.Layers);
  });

  it("reads the tarball from stdin and rejects a missing file or a bad --change", async () => {
    const r = await env.run(["import", "-", "bb:stdin"], { input: readFileSync(env.busyboxTar) });
    expect(r.code, r.stderr).toBe(0);
    expect((await env.run(["import", "nope.tar", "x"])).code).toBe(2);
    const bad = await env.run(["import", "--change", "RUN true", env.busyboxTar, "x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/RUN/);
  });
});

describe("tbuild save / load", { timeout: 300_000 }, () => {
  it("round-trips an OCI archive into a fresh store with the same digests", async () => {
    const before = await inspect(env.root, "app:1");
    const s = await env.run(["save", "app:1", "-o", "app-oci.tar"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe("");
    const fresh = join(env.dir, "fresh-oci");
    const l = await tbuild(["--root", fresh, "load", "-i", join(env.dir, "app-oci.tar")]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toBe("Loaded image: app:1\n");
    const after = await inspect(fresh, "app:1");
    expect(after.Id).toBe(before.Id);
    expect(after.Digest).toBe(before.Digest);

    // The loaded image is a working base: build on it in the fresh store.
    env.write({ "onloaded/Dockerfile": "FROM app:1\nRUN cat /built.txt\n" });
    const b = await tbuild(["--root", fresh, "build", "-q", "-t", "on-loaded", "onloaded"], { cwd: env.dir });
    expect(b.code, b.stderr).toBe(0);
  });

  it("round-trips a docker-archive keeping the image ID", async () => {
    const before = await inspect(env.root, "app:1");
    expect((await env.run(["save", "--format", "docker", "app:1", "-o", "app-docker.tar"])).code).toBe(0);
    const fresh = join(env.dir, "fresh-docker");
    const l = await tbuild(["--root", fresh, "load", "-q", "-i", join(env.dir, "app-docker.tar")]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toBe("app:1\n");
    expect((await inspect(fresh, "app:1")).Id).toBe(before.Id);
  });

  it("writes archives that skopeo and umoci read", async () => {
    if (haveTool("skopeo")) {
      const oci = JSON.parse(execFileSync("skopeo", ["inspect", `oci-archive:${join(env.dir, "app-oci.tar")}`], { encoding: "utf8" }));
      const before = await inspect(env.root, "app:1");
      expect(oci.Digest).toBe(before.Digest);
      const manifest = JSON.parse(execFileSync("tar", ["-xOf", join(env.dir, "app-docker.tar"), "manifest.json"], { encoding: "utf8" }));
      expect(manifest[0].RepoTags).toEqual(["app:1"]);
      const docker = JSON.parse(execFileSync("skopeo", ["inspect", `docker-archive:${join(env.dir, "app-docker.tar")}:app:1`], { encoding: "utf8" }));
      expect(docker.Name).toBe("docker.io/library/app");
      expect(docker.Layers).toHaveLength(before.RootFS.Layers.length);
    }
    if (haveTool("umoci")) {
      const layout = join(env.dir, "layout");
      mkdirSync(layout);
      execFileSync("tar", ["-xf", join(env.dir, "app-oci.tar"), "-C", layout]);
      execFileSync("umoci", ["unpack", "--rootless", "--image", `${layout}:1`, join(env.dir, "bundle")], { stdio: "pipe" });
      expect(readFileSync(join(env.dir, "bundle/rootfs/built.txt"), "utf8")).toBe("built\n");
    }
  });

  it("saves several images into one archive and rejects what is not an archive", async () => {
    expect((await env.run(["save", "app:1", "busybox", "-o", "two.tar"])).code).toBe(0);
    const fresh = join(env.dir, "fresh-two");
    const l = await tbuild(["--root", fresh, "load", "-i", join(env.dir, "two.tar")]);
    expect(l.stdout).toBe("Loaded image: app:1\nLoaded image: busybox:latest\n");
    writeFileSync(join(env.dir, "junk.tar"), "not a tar at all");
    const bad = await env.run(["load", "-i", "junk.tar"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ERROR: /);
    expect((await env.run(["save", "nope:1", "-o", "x.tar"])).code).toBe(1);
  });
});
