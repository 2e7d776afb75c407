// A typical application Dockerfile on a Debian base made locally with debootstrap:
// `apt-get update && apt-get install` against the Debian mirror this machine reaches, the
// app copied in, ENTRYPOINT/CMD; then the image is checked file by file and run, and a
// second build must be fully cached and byte-identical. Needs root, debootstrap and the
// Debian mirror (CI has both).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRootfs } from "@tbuild/builder";
import { makeBuildEnv, repo, type BuildEnv } from "./support/build-env.js";

// Reused across runs on one machine (the tarball is only rebuilt when missing).
const DEBIAN_TAR = process.env.TBUILD_DEBIAN_ROOTFS ?? "/dev/shm/tbuild-debian-rootfs.tar";

describe("Debian application image", () => {
  let env: BuildEnv;
  beforeAll(async () => {
    execFileSync("bash", [path.join(repo, "fixtures/debian/debian-rootfs.sh"), DEBIAN_TAR], { stdio: "pipe", timeout: 600_000 });
    env = await makeBuildEnv();
    await importRootfs({ tarPath: DEBIAN_TAR, ref: "debian:bookworm", root: env.root, changes: ['CMD ["bash"]'] });
  }, 900_000);
  afterAll(() => env?.dispose());

  it("installs packages with apt-get, copies the app, and rebuilds fully cached", async () => {
    const context = path.join(repo, "fixtures/debian-app");
    const out = path.join(env.work, "rootfs");
    const first = await env.run({ context, tags: ["debian-app:1"], outputs: [{ type: "store" }, { type: "local", dest: out }] });
    const cfg = first.result.config.config!;
    expect(cfg.Entrypoint).toEqual(["./greet.sh"]);
    expect(cfg.Cmd).toEqual(["world"]);
    expect(cfg.WorkingDir).toBe("/opt/app");
    expect(cfg.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(cfg.Env).toContain("APP_HOME=/opt/app");
    expect(existsSync(path.join(out, "usr/bin/jq"))).toBe(true);
    expect(existsSync(path.join(out, "var/lib/apt/lists/lock"))).toBe(false);
    expect(readFileSync(path.join(out, "opt/app/VERSION"), "utf8")).toBe("0.1.0\n");
    expect(statSync(path.join(out, "opt/app/greet.sh")).mode & 0o111).not.toBe(0);
    expect(existsSync(path.join(out, "opt/app/Dockerfile"))).toBe(false); // .dockerignore
    // The image runs: chroot into the flattened rootfs and start the entrypoint with CMD.
    const greeting = execFileSync("chroot", [out, "/usr/bin/env", "APP_HOME=/opt/app", "sh", "-c", "cd /opt/app && ./greet.sh world"], { encoding: "utf8" });
    expect(greeting.trim()).toBe("Hello, world! (v0.1.0)");

    const second = await env.run({ context, tags: ["debian-app:1"] });
    expect(second.result.manifestDigest).toBe(first.result.manifestDigest);
    expect(second.events.filter((e) => e.type === "step-cached")).toHaveLength(4);
  }, 600_000);
});
