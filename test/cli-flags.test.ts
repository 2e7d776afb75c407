// The tbuild command's surface: help for every command, usage errors (exit 2, one
// line, no stack trace), the debug switch, and `version`. Spawns the built binary.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasStackTrace, shmTempDir, tbuildSync } from "../packages/cli/test-support/run-cli.js";

const commands = [
  ["build"], ["images"], ["inspect"], ["history"], ["tag"], ["rmi"], ["save"], ["load"], ["import"],
  ["push"], ["pull"], ["du"], ["prune"], ["version"], ["compose"], ["compose", "build"],
];

let work: { dir: string; cleanup: () => void };
let root: string;
beforeAll(() => {
  work = shmTempDir("tbuild-cli-flags");
  mkdirSync(join(work.dir, "ctx"));
  writeFileSync(join(work.dir, "ctx/Dockerfile"), "FROM scratch\n");
  root = join(work.dir, "root");
});
afterAll(() => work.cleanup());

function expectUsageError(args: string[], message: RegExp, cwd = work.dir) {
  const r = tbuildSync(["--root", root, ...args], { cwd });
  expect(r.code, `tbuild ${args.join(" ")}: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).toMatch(/See 'tbuild( [a-z]+)* --help'\.$/);
  expect(hasStackTrace(r.stderr)).toBe(false);
}

describe("help", () => {
  it.each(commands)("tbuild %s --help exits 0 and documents the command", (...cmd) => {
    const r = tbuildSync([...cmd, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: tbuild ${cmd.join(" ")}`);
    expect(r.stderr).toBe("");
  });
  it("lists every command in the top-level help, also when run without arguments", () => {
    for (const args of [["--help"], []]) {
      const r = tbuildSync(args);
      expect(r.code).toBe(0);
      for (const [c] of commands) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    }
  });
  it("documents build's docker-compatible flags", () => {
    const { stdout } = tbuildSync(["build", "--help"]);
    for (const flag of ["-f, --file", "-t, --tag", "--build-arg", "--target", "--no-cache", "--no-cache-filter", "--platform",
      "--label", "--secret", "--network", "--progress", "-q, --quiet", "--iidfile", "-o, --output", "--push", "--root", "--debug"]) {
      expect(stdout).toContain(flag);
    }
  });
});

describe("usage errors exit 2 with one line", () => {
  it.each<[string[], RegExp]>([
    [["build", "--bogus", "ctx"], /^tbuild build: unknown option '--bogus'/],
    [["build"], /missing required argument 'context'/],
    [["build", "ctx", "extra"], /too many arguments/],
    [["-t"], /option '-t, --tag <name>' argument missing/],
    [["build", "--progress", "fancy", "ctx"], /argument 'fancy' is invalid. Allowed choices are auto, tty, plain, rawjson/],
    [["build", "--network", "bridge", "ctx"], /Allowed choices are default, none, host/],
    [["build", "-o", "type=zip,dest=x", "ctx"], /--output: unknown type "zip"/],
    [["build", "-o", "type=oci", "ctx"], /--output type=oci: missing dest=/],
    [["build", "--secret", "id=x,src=/nonexistent/file", "ctx"], /--secret x: file \/nonexistent\/file not found/],
    [["build", "--secret", "src=/etc/hostname", "ctx"], /--secret: missing id=/],
    [["build", "--build-arg", "=v", "ctx"], /--build-arg: invalid argument name/],
    [["build", "--label", "=v", "ctx"], /--label: missing key/],
    [["build", "--platform", "amd64", "ctx"], /--platform: "amd64" is not of the form os\/arch/],
    [["build", "--push", "ctx"], /--push needs at least one --tag/],
    [["build", "nonexistent-dir/"], /^tbuild build: build context nonexistent-dir\/ not found/],
    [["build", "-f", "nope.Dockerfile", "ctx"], /cannot find the Dockerfile nope.Dockerfile/],
    [["frobnicate"], /^tbuild: unknown command 'frobnicate'/],
    [["images", "--format", "xml"], /Allowed choices are table, json/],
    [["images", "a", "b"], /too many arguments/],
    [["inspect"], /missing required argument 'ref'/],
    [["history", "a", "b"], /too many arguments/],
    [["tag", "a"], /missing required argument 'target'/],
    [["rmi"], /missing required argument 'ref'/],
    [["save", "img"], /required option '-o, --output <file>' not specified/],
    [["save", "img", "-o", "x.tar", "--format", "zip"], /Allowed choices are oci, docker/],
    [["load"], /required option '-i, --input <file>' not specified/],
    [["import", "rootfs.tar"], /missing required argument 'ref'/],
    [["push"], /missing required argument 'ref'/],
    [["pull", "--bogus", "x"], /unknown option '--bogus'/],
    [["du", "extra"], /too many arguments/],
    [["prune", "--keep-storage"], /argument missing/],
    [["prune", "--bogus"], /unknown option '--bogus'/],
    [["compose", "frob"], /^tbuild compose: unknown command 'frob'/],
    [["compose", "build", "--progress", "x"], /Allowed choices/],
    [["version", "extra"], /too many arguments/],
  ])("tbuild %j", (args, message) => {
    expectUsageError(args, message);
  });
});

describe("debug output", () => {
  it("shows a stack trace with TBUILD_DEBUG=1 or --debug, and never without", () => {
    const args = ["--root", root, "build", "-o", "type=zip,dest=x", "ctx"];
    const plain = tbuildSync(args, { cwd: work.dir });
    expect(hasStackTrace(plain.stderr)).toBe(false);
    const env = tbuildSync(args, { cwd: work.dir, env: { TBUILD_DEBUG: "1" } });
    expect(env.code).toBe(2);
    expect(hasStackTrace(env.stderr)).toBe(true);
    const flag = tbuildSync(["--debug", ...args], { cwd: work.dir });
    expect(flag.code).toBe(2);
    expect(hasStackTrace(flag.stderr)).toBe(true);
  });
});

describe("version", () => {
  it("prints the version, the runtime and the platform", () => {
    const r = tbuildSync(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tbuild version \d+\.\d+\.\d+\n Node\.js: +v\d+\.\d+\.\d+\n OS\/Arch: +linux\/[a-z0-9]+\n$/);
    expect(tbuildSync(["--version"]).stdout).toMatch(/^tbuild version \d+\.\d+\.\d+\n$/);
  });
});
