// RUN --mount=type=secret values must leave no trace: not in any layer, the config, the
// history, a cache key or record, an event, an error, or any file of the store, the runtime
// dir or an output (OCI/Docker archives and layouts unpacked and their blobs decompressed,
// the rootfs as a directory and as a tar). Secrets come from a file and from the
// environment, as files (default and custom targets, owner and mode) and as environment
// variables, in two stages, in a failing step, and a second build with another value is
// still a cache hit (the value is not part of the key). Both executors. Needs root.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectSuccess } from "../support/hostile-build.js";
import { findInTree } from "../support/hostile-host.js";
import { Tally } from "../support/hostile-tally.js";

const DOCKERFILE = [
  "FROM busybox AS helper",
  "RUN --mount=type=secret,id=file_secret,target=/etc/app/token,uid=1000,mode=0400 test \"$(stat -c %u:%a /etc/app/token)\" = 1000:400 && wc -c < /etc/app/token > /helper-len",
  "FROM busybox",
  "ARG CHECK",
  "RUN --mount=type=secret,id=file_secret test \"$(sha256sum < /run/secrets/file_secret | cut -d' ' -f1)\" = \"$CHECK\" && echo checked > /checked",
  "RUN --mount=type=secret,id=env_secret,env=TOKEN test -n \"$TOKEN\" && echo ${#TOKEN} > /env-len",
  "RUN --mount=type=secret,id=env_secret,env=TOKEN,target=/tok test \"$(cat /tok)\" = \"$TOKEN\" && echo same > /same",
  "COPY --from=helper /helper-len /helper-len",
  "",
].join("\n");

describe.each(["runc", "unshare"] as const)("secrets (%s executor)", (executor) => {
  let env: BuildEnv;
  let scratch: string;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
    scratch = mkdtempSync("/dev/shm/tbuild-hostile-secrets-");
    process.env.TBUILD_RUNTIME_DIR ??= "/run/tbuild";
  });
  afterAll(() => {
    env?.dispose();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const values = (n: number) => ({
    file: `FILESECRET-${executor}-${n}-${Math.random().toString(36).slice(2)}`,
    env: `ENVSECRET-${executor}-${n}-${Math.random().toString(36).slice(2)}`,
  });

  /** Builds with secret values `v`; CHECK is the digest the first RUN compares the file secret to. */
  async function buildWith(v: { file: string; env: string }, tag: string, checkOf = v.file) {
    const src = path.join(scratch, `${tag}.secret`);
    writeFileSync(src, v.file);
    process.env.TBUILD_HOSTILE_ENV_SECRET = v.env;
    const out = path.join(scratch, tag);
    mkdirSync(out);
    const check = execFileSync("sh", ["-c", "sha256sum | cut -d' ' -f1"], { input: checkOf }).toString().trim();
    const a = await attempt(env, {
      context: env.context({ Dockerfile: DOCKERFILE }),
      executor,
      buildArgs: { CHECK: check },
      secrets: [{ id: "file_secret", src }, { id: "env_secret", env: "TBUILD_HOSTILE_ENV_SECRET" }],
      tags: [`secrets-${executor}:${tag}`],
      outputs: [
        { type: "store" },
        { type: "local", dest: path.join(out, "rootfs") },
        { type: "tar", dest: path.join(out, "rootfs.tar") },
        { type: "oci", dest: path.join(out, "image.oci.tar") },
        { type: "docker", dest: path.join(out, "image.docker.tar") },
        { type: "oci-layout", dest: path.join(out, "layout") },
      ],
    });
    rmSync(src);
    delete process.env.TBUILD_HOSTILE_ENV_SECRET;
    for (const f of ["rootfs.tar", "image.oci.tar", "image.docker.tar"]) {
      const p = path.join(out, f);
      try {
        const dir = `${p}.d`;
        mkdirSync(dir);
        execFileSync("tar", ["-xf", p, "-C", dir], { stdio: "pipe" });
      } catch {
        // a failed build wrote no archive
      }
    }
    return { a, out };
  }

  /** Everywhere a secret could have gone. */
  function leaks(value: string, said: string, out: string): string[] {
    const found: string[] = [];
    if (said.includes(value)) found.push("events or error");
    found.push(...findInTree(env.root, value), ...findInTree(out, value));
    const runtime = process.env.TBUILD_RUNTIME_DIR || "/run/tbuild";
    found.push(...findInTree(runtime, value));
    return found;
  }

  it("leave no trace anywhere", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const v1 = values(1);
    const first = await buildWith(v1, "first");
    await t.check("the build uses the secrets", () => {
      const r = expectSuccess(first.a, "first build");
      expect(readFileSync(path.join(first.out, "rootfs/checked"), "utf8")).toBe("checked\n");
      expect(readFileSync(path.join(first.out, "rootfs/env-len"), "utf8")).toBe(`${v1.env.length}\n`);
      expect(readFileSync(path.join(first.out, "rootfs/same"), "utf8")).toBe("same\n");
      expect(readFileSync(path.join(first.out, "rootfs/helper-len"), "utf8").trim()).toBe(String(v1.file.length));
      // The mount stubs are gone (as in BuildKit): no /run/secrets, no /etc/app/token, no /tok.
      for (const p of ["run/secrets", "tok"]) expect(existsSync(path.join(first.out, "rootfs", p)), p).toBe(false);
      expect(JSON.stringify(r.config)).not.toMatch(/SECRET-/);
    });
    for (const [name, value] of [["file secret", v1.file], ["env secret", v1.env]] as const) {
      await t.check(`${name} leaves no trace`, () => expect(leaks(value, first.a.said, first.out)).toEqual([]));
    }

    const v2 = values(2);
    // The same CHECK as the first build: the checking step would fail if it ran again.
    const second = await buildWith(v2, "second", v1.file);
    await t.check("another secret value is still a cache hit", () => {
      const r = expectSuccess(second.a, "second build");
      expect(r.steps.filter((s) => s.step.instruction.startsWith("RUN")).every((s) => s.cached)).toBe(true);
    });
    for (const [name, value] of [["file secret (cached build)", v2.file], ["env secret (cached build)", v2.env]] as const) {
      await t.check(`${name} leaves no trace`, () => expect(leaks(value, second.a.said, second.out)).toEqual([]));
    }

    await t.check("a failing step that holds the secret does not report it", async () => {
      const v = values(3);
      process.env.TBUILD_HOSTILE_ENV_SECRET = v.env;
      const a = await attempt(env, {
        context: env.context({ Dockerfile: "FROM busybox\nRUN --mount=type=secret,id=env_secret,env=TOKEN --mount=type=secret,id=env_secret,target=/s test \"$TOKEN\" = nope\n" }),
        executor,
        secrets: [{ id: "env_secret", env: "TBUILD_HOSTILE_ENV_SECRET" }],
      });
      delete process.env.TBUILD_HOSTILE_ENV_SECRET;
      expect(a.error?.message).toMatch(/exit code: 1/);
      expect(leaks(v.env, a.said, scratch)).toEqual([]);
    });
    t.assertClean();
  });
});
