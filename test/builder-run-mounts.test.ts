// RUN --mount details as BuildKit has them: a bind of a file is that file, a bound
// directory keeps its mode (so a non-root USER can read it), a cache mount's mode is
// exact (not cut by the umask), and sharing=private holds across tbuild processes (a
// cache directory another process holds is not handed out again). Needs root.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

describe.each(["unshare", "runc"] as const)("RUN --mount (%s executor)", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  const out = (name: string) => path.join(env.work, name);

  it("binds a file source as the file itself", async () => {
    const ctx = env.context({ "conf.txt": "the config\n", Dockerfile: "FROM busybox\nRUN --mount=type=bind,source=conf.txt,target=/etc/app.conf cat /etc/app.conf > /seen && test -f /etc/app.conf\n" });
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out("file") }] });
    expect(readFileSync(`${out("file")}/seen`, "utf8")).toBe("the config\n");
    expect(existsSync(`${out("file")}/etc/app.conf`)).toBe(false);
  });

  it("keeps a bound directory's mode, so a non-root user can read it", async () => {
    const ctx = env.context({ "d/f": "data\n", Dockerfile: "FROM busybox\nUSER 65534\nRUN --mount=type=bind,source=d,target=/m cat /m/f > /tmp/seen && stat -c %a /m >> /tmp/seen\n" });
    chmodSync(path.join(ctx, "d"), 0o755);
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out("dir") }] });
    expect(readFileSync(`${out("dir")}/tmp/seen`, "utf8")).toBe("data\n755\n");
  });

  it("creates a cache mount with exactly the mode asked for", async () => {
    const ctx = env.context({ Dockerfile: "FROM busybox\nRUN --mount=type=cache,id=modes,target=/c,mode=0777,uid=65534 stat -c '%a %u' /c > /seen\n" });
    await env.run({ context: ctx, outputs: [{ type: "local", dest: out("cache") }] });
    expect(readFileSync(`${out("cache")}/seen`, "utf8")).toBe("777 65534\n");
  });

  it("does not hand out a private cache directory another process holds", async () => {
    const root = path.join(env.root, "cache-mounts");
    mkdirSync(root, { recursive: true });
    const hex = createHash("sha256").update(`private-${executor}`).digest("hex");
    // Another process holds the first directory of this id, as a concurrent build would.
    const holder: ChildProcess = spawn("flock", ["-x", `${root}/${hex}.lock`, "-c", "echo held; exec cat"], { stdio: ["pipe", "pipe", "ignore"] });
    try {
      await new Promise<void>((r) => holder.stdout!.once("data", () => r()));
      const ctx = env.context({ Dockerfile: `FROM busybox\nRUN --mount=type=cache,id=private-${executor},target=/c,sharing=private touch /c/mine\n` });
      await env.run({ context: ctx, noCache: true });
      expect(existsSync(`${root}/${hex}/mine`)).toBe(false);
      expect(readdirSync(`${root}/${hex}-1`)).toEqual(["mine"]);
    } finally {
      holder.stdin!.end();
    }
  });
});
