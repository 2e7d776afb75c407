// Destinations that lead out through symlinks of the image: COPY, ADD (files and archives),
// COPY --link, COPY --from and WORKDIR into paths whose parents are links to "/", to "..",
// to climbing relative paths, or whose final component is a link to a host path. As with
// BuildKit's fs.RootPath, every such path must resolve inside the rootfs: the entries land
// where the link points *inside the image*, and nothing appears on the host. Needs root.
import { existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt, expectSuccess } from "../support/hostile-build.js";
import { rawTar } from "../support/hostile-tar.js";
import { Tally } from "../support/hostile-tally.js";

let env: BuildEnv;
const token = `tbuild-dest-${process.pid}-${Date.now()}`;
const hostPaths = () => [`/tmp/${token}`, `/dev/shm/${token}`, `/etc/${token}`, `/${token}`, `/tmp/${token}-wd`, `/tmp/${token}-file`];

/** The traps, made by a RUN so they are ordinary image content. */
const TRAPS = [
  "ln -s / /rootlink",
  "ln -s .. /uplink",
  "mkdir -p /a/b && ln -s ../../../../../.. /a/b/up",
  "ln -s /etc /etclink",
  `ln -s /tmp/${token}-file /dstlink`,
  `ln -s ../../../../../tmp/${token}-rel /dstrel`,
].join(" && ");

beforeAll(async () => {
  env = await makeBuildEnv();
});
afterAll(() => {
  env?.dispose();
  for (const p of hostPaths()) rmSync(p, { recursive: true, force: true });
});

describe("hostile destinations", () => {
  it("resolve inside the rootfs", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    // [name, Dockerfile lines after the traps, container paths that must hold "payload\n"]
    const cases: [string, string[], string[]][] = [
      ["COPY through a link to /", [`COPY f /rootlink/dev/shm/${token}/x`], [`/dev/shm/${token}/x`]],
      ["COPY through links to ..", [`COPY f /uplink/uplink/tmp/${token}`], [`/tmp/${token}`]],
      ["COPY through a climbing relative link", [`COPY f /a/b/up/etc/${token}`], [`/etc/${token}`]],
      ["COPY into a dir through a link to /etc", [`COPY f /etclink/${token}`], [`/etc/${token}`]],
      ["COPY onto a final link to a host path", ["COPY f /dstlink"], [`/tmp/${token}-file`]],
      ["COPY onto a final climbing link", ["COPY f /dstrel"], [`/tmp/${token}-rel`]],
      ["COPY a directory through a link to /", [`COPY dir /rootlink/tmp/${token}/`], [`/tmp/${token}/f`]],
      ["ADD a file through a link to /", [`ADD f /rootlink/tmp/${token}`], [`/tmp/${token}`]],
      ["ADD an archive through a link to /", [`ADD t.tar /rootlink/tmp/${token}/`], [`/tmp/${token}/from-tar`]],
      ["ADD an archive through links to ..", [`ADD t.tar /uplink/uplink/uplink/`], ["/from-tar"]],
      ["COPY --from a stage through a link to /", [`COPY --from=src /f /rootlink/dev/shm/${token}`], [`/dev/shm/${token}`]],
      ["COPY heredoc through a link to /", [`COPY <<EOF /rootlink/tmp/${token}\npayload\nEOF`], [`/tmp/${token}`]],
      ["WORKDIR through a link to / then COPY .", [`WORKDIR /rootlink/tmp/${token}-wd`, "COPY f ."], [`/tmp/${token}-wd/f`]],
      ["WORKDIR through links to .. then RUN", [`WORKDIR /uplink/uplink/tmp/${token}-wd`, "RUN echo payload > here && pwd > /pwd"], [`/tmp/${token}-wd/here`]],
    ];
    let i = 0;
    for (const [name, lines, expected] of cases) {
      await t.check(name, async () => {
        const dir = env.context({
          Dockerfile: ["FROM busybox AS src", "RUN echo payload > /f", "FROM busybox", `RUN ${TRAPS}`, ...lines, ""].join("\n"),
          f: "payload\n",
          "dir/f": "payload\n",
        });
        writeFileSync(path.join(dir, "t.tar"), rawTar([{ name: "from-tar", body: "payload\n" }]));
        const out = path.join(env.work, `dest-out${i++}`);
        const a = await attempt(env, { context: dir, outputs: [{ type: "local", dest: out }] });
        for (const p of hostPaths()) expect(existsSync(p), `host path ${p}`).toBe(false);
        expectSuccess(a, name);
        for (const p of expected) expect(readFileSync(path.join(out, p), "utf8"), p).toBe("payload\n");
        // The traps themselves are untouched links.
        expect(readlinkSync(path.join(out, "rootlink"))).toBe("/");
        if (name.includes("RUN")) expect(readFileSync(path.join(out, "pwd"), "utf8")).toBe(`/tmp/${token}-wd\n`);
      });
    }
    await t.check("COPY --link through a link to / writes the path as named", async () => {
      // --link writes without looking at the image: the link is not seen, and at apply time
      // the new directory entry sits beside it. Either way nothing may reach the host.
      const out = path.join(env.work, "dest-link");
      const a = await attempt(env, {
        context: env.context({ Dockerfile: `FROM busybox\nRUN ${TRAPS}\nCOPY --link f /rootlink/tmp/${token}\n`, f: "payload\n" }),
        outputs: [{ type: "local", dest: out }],
      });
      for (const p of hostPaths()) expect(existsSync(p), `host path ${p}`).toBe(false);
      if (a.error) expect(a.error.message).not.toMatch(/\n\s+at /);
    });
    t.assertClean();
  });
});
