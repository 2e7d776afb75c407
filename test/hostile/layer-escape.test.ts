// Hostile layers and archives through the three ways one reaches the builder: a rootfs tar
// imported with importRootfs, an image in an OCI layout used as a named build context
// (oci-layout://), and a tar ADDed from the build context. Each archive tries to write
// outside its target: "../" names, absolute names, a symlink then a file written through it,
// hard links to host files (then written through), device nodes, a header claiming 100 GB
// over a short body, duplicate entries, whiteouts of "..". Every case must end in a clear
// error or a contained result: a watched host directory stays empty, a canary stays
// byte-identical with one link, no file appears at the host paths the names aim at, and the
// image (exported as a local directory) holds nothing of the host. Needs root.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRootfs } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "../support/build-env.js";
import { attempt } from "../support/hostile-build.js";
import { findInTree, plantCanary, type Canary } from "../support/hostile-host.js";
import { rawTar, writeOciLayout, type RawEntry } from "../support/hostile-tar.js";
import { Tally } from "../support/hostile-tally.js";

let env: BuildEnv;
let canary: Canary;
let scratch: string;
/** Must stay empty: the hostile names aim here. */
let watch: string;
const token = `tbuild-escape-${process.pid}-${Date.now()}`;
/** Host paths hostile absolute names aim at; none may exist afterwards. */
const aimed = () => [`/tmp/${token}`, `/dev/shm/${token}`, `/${token}`, `/etc/${token}`];
const up = "../".repeat(16);

beforeAll(async () => {
  env = await makeBuildEnv();
  scratch = mkdtempSync("/dev/shm/tbuild-hostile-layers-");
  watch = path.join(scratch, "watch");
  mkdirSync(watch);
  mkdirSync(path.join(scratch, "canary"));
  canary = plantCanary(path.join(scratch, "canary"));
});
afterAll(() => {
  env?.dispose();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  for (const p of aimed()) rmSync(p, { recursive: true, force: true });
});

const rootDev = () => {
  const d = statSync("/").dev;
  return { devmajor: Math.floor(d / 256) & 0xfff, devminor: (d & 0xff) | ((Math.floor(d / 4096)) & 0xfff00) };
};

/** Each case: a name, its layers (most have one), and the error it must end in, if any. */
function cases(): [string, RawEntry[][], RegExp?][] {
  const w = watch.slice(1);
  return [
    ["../ names", [[{ name: `${up}${w}/dotdot` }, { name: `a/${up}${w}/nested` }, { name: `../${token}`, body: "x" }]]],
    ["absolute names", [[{ name: `/tmp/${token}` }, { name: `${watch}/abs` }, { name: `/dev/shm/${token}`, type: "dir" }]]],
    ["a symlink to outside, then a file through it", [[{ name: "evil", type: "symlink", linkname: watch }, { name: "evil/through" }]]],
    ["a climbing symlink, then a file through it", [[{ name: "rel", type: "symlink", linkname: `${up}${w}` }, { name: "rel/through" }]]],
    ["a symlink to /, then a file through it", [[{ name: "slash", type: "symlink", linkname: "/" }, { name: `slash/tmp/${token}` }]]],
    ["a symlink chain leading out", [[{ name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "../../../.." + watch }, { name: "a/chain" }]]],
    ["a symlink in one layer, a file through it in the next", [[{ name: "evil", type: "symlink", linkname: watch }], [{ name: "evil/next-layer" }]]],
    ["a symlink to the canary, then a file of the same name", [[{ name: "c", type: "symlink", linkname: canary.file }, { name: "c", body: "pwned\n" }]]],
    ["a symlink to the canary dir, then its file overwritten", [[{ name: "cd", type: "symlink", linkname: canary.dir }, { name: "cd/secret.txt", body: "pwned\n" }]]],
    ["a hard link to a host file (absolute)", [[{ name: "hl", type: "hardlink", linkname: canary.file }]]],
    ["a hard link to a host file (climbing)", [[{ name: "hl", type: "hardlink", linkname: `${up}${canary.file.slice(1)}` }]]],
    ["a hard link to a host file, then written through", [[{ name: "hl", type: "hardlink", linkname: canary.file }, { name: "hl", body: "pwned\n" }]]],
    ["a hard link through an outside symlink", [[{ name: "cd", type: "symlink", linkname: canary.dir }, { name: "hl", type: "hardlink", linkname: "cd/secret.txt" }]]],
    ["device nodes of the host's disk and kernel log", [[{ name: "disk", type: "block", ...rootDev() }, { name: "kmsg", type: "char", devmajor: 1, devminor: 11 }, { name: "fifo", type: "fifo" }]]],
    ["a header claiming 100 GB over a short body", [[{ name: "big", body: Buffer.alloc(1000, 7), claimedSize: 100 * 2 ** 30 }]], /truncated/],
    ["duplicate entries of every kind", [[{ name: "dup", body: "one" }, { name: "dup", body: "two" }, { name: "d", type: "dir" }, { name: "d", body: "file now" }, { name: "f", body: "file" }, { name: "f", type: "dir" }, { name: "f/x" }, { name: "s", type: "symlink", linkname: watch }, { name: "s", type: "dir" }, { name: "s/inside" }]]],
    ["whiteouts of ..", [[{ name: ".wh.." }, { name: "a/.wh.." }, { name: ".wh..." }, { name: "a/.wh..." }]], /whiteout/],
    ["a whiteout through an outside symlink", [[{ name: "cd", type: "symlink", linkname: canary.dir }, { name: "cd/.wh.secret.txt" }, { name: "cd/.wh..wh..opq" }]]],
  ];
}

/** The host is untouched: nothing in `watch`, nothing at the aimed paths, the canary intact. */
function hostUntouched(): void {
  expect(readdirSync(watch)).toEqual([]);
  for (const p of aimed()) expect(() => statSync(p), p).toThrow();
  canary.verify();
}

let baseNames: string[] | undefined;
/** The top-level names of the busybox base image. */
async function baseTopLevel(): Promise<string[]> {
  if (!baseNames) {
    const out = path.join(env.work, "layers-base");
    const a = await attempt(env, { context: env.context({ Dockerfile: "FROM busybox\n" }), outputs: [{ type: "local", dest: out }] });
    if (a.error) throw a.error;
    baseNames = readdirSync(out);
  }
  return baseNames;
}

/** A clear error: a message of its own, not a bare errno or a stack. */
function clearError(e: Error): void {
  expect(e.message.length).toBeGreaterThan(10);
  expect(e.message).not.toMatch(/\n\s+at /);
}

/** A build that uses the image must not carry anything of the host either; returns its error, if any. */
async function exportAndCheck(ctxFiles: Record<string, string>, buildContexts?: Record<string, string>): Promise<Error | undefined> {
  const out = path.join(env.work, `layers-out-${Math.random().toString(36).slice(2)}`);
  const a = await attempt(env, { context: env.context(ctxFiles), buildContexts, outputs: [{ type: "local", dest: out }] });
  if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`build ${JSON.stringify(ctxFiles)}: ${a.error?.message ?? "built"}`);
  if (a.error) {
    clearError(a.error);
    return a.error;
  }
  expect(findInTree(out, canary.token)).toEqual([]);
  rmSync(out, { recursive: true, force: true });
  return undefined;
}

describe("hostile layers and archives", () => {
  it("imported rootfs tars write nothing outside the snapshot", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    let i = 0;
    for (const [name, layers, mustFail] of cases()) {
      await t.check(`import: ${name}`, async () => {
        const tarPath = path.join(scratch, `import-${i}.tar`);
        writeFileSync(tarPath, rawTar(layers.flat()));
        const ref = `hostile/import-${i++}:1`;
        const err = await importRootfs({ tarPath, ref, root: env.root }).then(() => undefined, (e: Error) => e);
        hostUntouched();
        if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`import ${name}: ${err?.message ?? "imported"}`);
        if (mustFail) expect(err?.message).toMatch(mustFail);
        if (err) clearError(err);
        else await exportAndCheck({ Dockerfile: `FROM ${ref}\nLABEL checked=1\n` });
        hostUntouched();
      });
    }
    t.assertClean();
  });

  it("images of an OCI layout (oci-layout:// build context) write nothing outside their snapshots", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    let i = 0;
    for (const [name, layers, mustFail] of cases()) {
      await t.check(`oci-layout: ${name}`, async () => {
        const dir = path.join(scratch, `layout-${i++}`);
        writeOciLayout(dir, layers.map((l) => rawTar(l)));
        const err = await exportAndCheck({ Dockerfile: "FROM base\nLABEL checked=1\n" }, { base: `oci-layout://${dir}:latest` });
        if (mustFail) expect(err?.message).toMatch(mustFail);
        hostUntouched();
      });
    }
    t.assertClean();
  });

  it("ADDed tars are confined to their destination", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    for (const [name, layers, mustFail] of cases()) {
      await t.check(`ADD: ${name}`, async () => {
        const files: Record<string, string> = { Dockerfile: "FROM busybox\n" + layers.map((_, j) => `ADD evil${j}.tar /dest/\n`).join("") };
        const dir = env.context(files);
        layers.forEach((l, j) => writeFileSync(path.join(dir, `evil${j}.tar`), rawTar(l)));
        const out = path.join(env.work, `add-out-${Math.random().toString(36).slice(2)}`);
        const a = await attempt(env, { context: dir, outputs: [{ type: "local", dest: out }] });
        if (process.env.TBUILD_HOSTILE_VERBOSE) console.log(`ADD ${name}: ${a.error?.message ?? "built"}`);
        hostUntouched();
        if (mustFail) expect(a.error?.message).toMatch(mustFail);
        if (a.error) clearError(a.error);
        else {
          expect(findInTree(out, canary.token)).toEqual([]);
          // Everything the archive wrote is below /dest: the top level is busybox's plus dest.
          expect(readdirSync(out).sort()).toEqual([...(await baseTopLevel()), "dest"].sort());
        }
      });
    }
    t.assertClean();
  });

  it("device nodes of a hostile layer cannot be opened by a RUN (both executors)", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const dir = path.join(scratch, "devices-layout");
    writeOciLayout(dir, [rawTar([{ name: "disk", type: "block", ...rootDev() }, { name: "kmsg", type: "char", devmajor: 1, devminor: 11 }])]);
    for (const executor of ["runc", "unshare"] as const) {
      await t.check(`RUN reads the devices (${executor})`, async () => {
        const out = path.join(env.work, `dev-out-${executor}`);
        const a = await attempt(env, {
          context: env.context({ Dockerfile: "FROM busybox AS tools\nFROM base\nCOPY --from=tools /bin/busybox /busybox\nRUN [\"/busybox\", \"sh\", \"-c\", \"/busybox head -c 64 /disk | /busybox wc -c > /disk.n; /busybox head -c 64 /kmsg | /busybox wc -c > /kmsg.n; /busybox mknod /d2 b " + `${rootDev().devmajor} ${rootDev().devminor}` + " && /busybox head -c 64 /d2 | /busybox wc -c > /d2.n; true\"]\n" }),
          buildContexts: { base: `oci-layout://${dir}:latest` },
          executor,
          outputs: [{ type: "local", dest: out }],
        });
        if (a.error) return clearError(a.error);
        for (const f of ["disk.n", "kmsg.n", "d2.n"]) {
          const p = path.join(out, f);
          const n = statSync(p, { throwIfNoEntry: false }) ? Number(readFileSync(p, "utf8").trim()) : 0;
          expect(n, `${f}: bytes read from a host device`).toBe(0);
        }
      });
    }
    t.assertClean();
  });
});
