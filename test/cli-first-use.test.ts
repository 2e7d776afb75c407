// What a new user sees from the CLI (issue 13, items 10–12): a Dockerfile error reported
// once at the word that is wrong, progress that names what runs (FROM with its resolved
// base, BuildKit's wording for local and tar exports), `-v` meaning verbose on a
// subcommand, a --build-arg that cannot be a name refused, and du/prune saying what the gc
// grace period holds back. Runs the bundle (`npm run build` first). Needs root (the sandbox).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEnv, createBuildEnv } from "../packages/cli/test-support/build-env.js";
import { hasStackTrace } from "../packages/cli/test-support/run-cli.js";

let env: BuildEnv;
beforeAll(async () => {
  env = await createBuildEnv("tbuild-cli-first-use");
  env.write({
    "quote/Dockerfile": 'FROM busybox\nRUN true\nENV A="unterminated\n',
    "missing/Dockerfile": "FROM busybox\n\nCOPY a.txt  nope.txt /x/\n",
    "missing/a.txt": "a\n",
    "arg/Dockerfile": "ARG BASE=busybox\nFROM ${BASE}\nRUN echo hi > /hi\n",
  });
}, 300_000);
afterAll(() => env?.cleanup());

describe("tbuild first use", { timeout: 300_000 }, () => {
  it("reports an unterminated quote once, at the quote, before any step", async () => {
    const r = await env.run(["build", "--progress", "plain", "quote"]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/looking for matching double-quote/g)).toHaveLength(1);
    expect(r.stderr).toContain("Dockerfile:3:7:");
    expect(r.stderr).not.toMatch(/^#\d+ /m); // no step started
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it("gives a missing COPY source as file:line:column of its word", async () => {
    const r = await env.run(["build", "--progress", "plain", "missing"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^missing\/Dockerfile:3:13$/m);
    expect(r.stderr).toContain("nope.txt");
  });

  it("shows FROM with the resolved base name, and BuildKit's titles for local and tar exports", async () => {
    const r = await env.run(["build", "--progress", "plain", "-o", "type=local,dest=out/rootfs", "arg"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^#1 \[1\/2\] FROM busybox$/m);
    expect(r.stderr).not.toContain("${BASE}");
    expect(r.stderr).toMatch(/^#\d+ exporting to client directory$/m);
    expect(r.stderr).not.toContain("exporting to image");
    const t = await env.run(["build", "--progress", "plain", "-o", "type=tar,dest=out/rootfs.tar", "arg"]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/^#\d+ exporting to client tarball$/m);
  });

  it("refuses a --build-arg that is no argument name, with a usage error", async () => {
    const r = await env.run(["build", "--build-arg", ".", "arg"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--build-arg/);
    expect(r.stderr).toContain('"."');
  });

  it("takes -v on a subcommand as verbose, and keeps -v as the version on the top level", async () => {
    const top = await env.run(["-v"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^tbuild version /);
    const du = await env.run(["du", "-v"]);
    expect(du.code, du.stderr).toBe(0);
    expect(du.stdout).not.toMatch(/tbuild version/);
    expect(du.stdout).toMatch(/^ID\s+TYPE\s+SIZE\s+STATE/m);
    expect(du.stdout).toMatch(/^sha256:[0-9a-f]{12}\s+(blob|snapshot)\s/m);
    const images = await env.run(["images", "-v"]);
    expect(images.code).toBe(2);
    expect(images.stdout).not.toMatch(/tbuild version/);
  });

  it("says in du and prune what the gc grace period holds back and how to override it", async () => {
    // An untagged build leaves fresh, unreferenced data: the grace period (5m default) keeps it.
    const b = await env.run(["build", "-q", "--no-cache", "arg"]);
    expect(b.code, b.stderr).toBe(0);
    await env.run(["prune", "--all", "-f"], { env: { TBUILD_GC_GRACE: "1h" } });
    const du = await env.run(["du"], { env: { TBUILD_GC_GRACE: "1h" } });
    expect(du.stdout).toMatch(/held back by the gc grace period \(1h\)/);
    expect(du.stdout).toContain("TBUILD_GC_GRACE=0");
    const p = await env.run(["prune", "--all", "-f"], { env: { TBUILD_GC_GRACE: "1h" } });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/held back by the gc grace period \(1h\)/);
    expect(p.stdout).toContain("TBUILD_GC_GRACE=0");
    const none = await env.run(["prune", "--all", "-f"], { env: { TBUILD_GC_GRACE: "0" } });
    expect(none.stdout).not.toMatch(/held back/);
  });
});
