// Bad flags and values on every `tbuild` command: the commands and their options are read
// from the command's own --help, and for each one the sweep tries an unknown long and short
// option, every value option without its value, every choice option with a value outside
// its choices, a missing required argument and one argument too many; then a list of
// malformed values for the options that parse structured input (platforms, outputs,
// secrets, build args, labels, sizes, durations, filters, references). Each must be a usage
// error: exit code 2, nothing on stdout, one line on stderr naming the command, no stack
// trace, and no side effect (the store stays empty). Spawns the built CLI (dist/main.js).
// All command lines under `npm run test:hostile`, every third inside `npm test`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/hostile-procs.js";
import { FULL, Tally } from "../support/hostile-tally.js";

const cli = path.join(repoRoot, "packages/cli/bundle/main.js");
let work: string;
let root: string;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` (npm test does) first`);
  work = mkdtempSync("/dev/shm/tbuild-hostile-cli-");
  root = path.join(work, "store");
  mkdirSync(path.join(work, "ctx"));
  writeFileSync(path.join(work, "ctx/Dockerfile"), "FROM scratch\n");
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tbuild(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: work, stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", TBUILD_ROOT: root, TBUILD_DEBUG: "", DOCKER_CONFIG: path.join(work, "no-docker-config") },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface OptionSpec {
  flags: string[];
  takesValue: boolean;
  choices?: string[];
}

interface CommandSpec {
  path: string[];
  required: number;
  variadic: boolean;
  optional: number;
  options: OptionSpec[];
}

/** Reads a command's usage line and options from its --help. */
async function commandSpec(cmd: string[]): Promise<CommandSpec> {
  const { stdout } = await tbuild([...cmd, "--help"]);
  const usage = /^Usage: tbuild(?: \S+)* \[options\](.*)$/m.exec(stdout)?.[1] ?? /^Usage: tbuild [a-z ]+?((?: [<[].*)?)$/m.exec(stdout)?.[1] ?? "";
  const required = (usage.match(/<[^>]+>/g) ?? []).length;
  const optional = (usage.match(/\[(?!options\])[^\]]+\]/g) ?? []).length;
  // Options: "  -t, --tag <name>   desc (choices: "a", "b")", descriptions may wrap.
  const section = stdout.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? "";
  const entries = section.split(/\n(?=  -)/).map((e) => e.replace(/\s+/g, " ").trim()).filter((e) => e.startsWith("-"));
  const options = entries.map((e) => {
    const head = /^((?:-\w, )?--[\w-]+)( [<[][^>\]]+[>\]])?/.exec(e)!;
    const choices = /\(choices: ([^)]*?)(?:, default|\))/.exec(e)?.[1]?.match(/"([^"]*)"/g)?.map((c) => c.slice(1, -1));
    return { flags: head[1]!.split(", "), takesValue: head[2] !== undefined && head[2].trim().startsWith("<"), choices };
  }).filter((o) => !o.flags.includes("--help") && !o.flags.includes("--version"));
  return { path: cmd, required, optional, variadic: usage.includes("..."), options };
}

/** Every command path, from the top-level help and the help of commands that have subcommands. */
async function allCommands(): Promise<string[][]> {
  const names = (s: string) => (s.split(/^Commands:$/m)[1] ?? "").split("\n").map((l) => /^  ([a-z][\w-]*)\b/.exec(l)?.[1]).filter((n): n is string => !!n && n !== "help");
  const top = names((await tbuild(["--help"])).stdout);
  const out: string[][] = [];
  for (const c of top) {
    out.push([c]);
    for (const sub of names((await tbuild([c, "--help"])).stdout)) out.push([c, sub]);
  }
  return out;
}

/** Placeholder arguments that parse (the case must fail on the flag, not on them). */
function placeholders(spec: CommandSpec, n = spec.required): string[] {
  if (spec.path[0] === "build") return ["ctx"].slice(0, n);
  if (spec.path[0] === "import") return ["rootfs.tar", "hostile/none:1"].slice(0, n);
  return Array.from({ length: n }, (_, i) => `hostile/none${i}:1`);
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/** Malformed values for options that parse structured input; each must be a usage error. */
const MALFORMED: string[][] = [
  ["build", "--platform", "", "ctx"], ["build", "--platform", "linux/", "ctx"], ["build", "--platform", "linux/amd64/v9/extra", "ctx"],
  ["build", "--build-arg", "", "ctx"], ["build", "--build-arg", "=x", "ctx"],
  ["build", "--label", "", "ctx"], ["build", "--label", "=v", "ctx"],
  ["build", "-o", "", "ctx"], ["build", "-o", "type=local", "ctx"], ["build", "-o", "type=oci,dest=", "ctx"], ["build", "-o", "type=bogus,dest=x", "ctx"], ["build", "-o", "type=oci,dest=x,compression=rot13", "ctx"],
  ["build", "--secret", "", "ctx"], ["build", "--secret", "id=", "ctx"], ["build", "--secret", "id=x,src=", "ctx"], ["build", "--secret", "id=x,env=", "ctx"], ["build", "--secret", "id=x,type=carrier-pigeon,src=/etc/hostname", "ctx"],
  ["build", "-t", "", "ctx"], ["build", "-t", "UPPER/Case:1", "ctx"], ["build", "-t", "a:b:c", "ctx"], ["build", "-t", "x@sha256:nothex", "ctx"], ["build", "-t", `${"a".repeat(300)}:1`, "ctx"],
  ["build", "--network", "", "ctx"], ["build", "--progress", "", "ctx"], ["build", "--target", "", "ctx"],
  ["build", "-f", "", "ctx"], ["build", ""],
  ["tag", "hostile/none:1", ""], ["tag", "hostile/none:1", "BAD NAME"],
  ["push", ""], ["pull", ""], ["pull", "UPPER:1"], ["pull", "x:1", "--platform", "nonsense"],
  ["import", "", "x:1"], ["import", "rootfs.tar", "Not A Ref"], ["import", "rootfs.tar", "x:1", "--change", "RUN rm -rf /"], ["import", "rootfs.tar", "x:1", "--change", ""],
  ["save", "hostile/none:1", "--format", "zip", "-o", "x.tar"],
  ["prune", "--keep-storage", "lots"], ["prune", "--keep-storage", "-5GB"], ["prune", "--filter", "until=banana"], ["prune", "--filter", "bogus=1"], ["prune", "--filter", ""],
  ["images", "--filter", "bogus=1"], ["images", "--format", "{{.ID}"],
];

/**
 * KNOWN GAPS (packages/cli): an empty image reference reaches the store lookup and reads
 * "image  not found in the local store" (exit 1) instead of a usage error naming the bad
 * argument; `save -o ""` looks the image up before checking its output path; `load -i ""`
 * reads the working directory and fails with the bare "EISDIR: illegal operation on a
 * directory, read". Fix: validate references with parseImageRef before any store access
 * (empty → usage error `invalid reference format ""`), and reject empty -o/-i paths in the
 * option parsers (UsageError, exit 2).
 */
const KNOWN_BAD: string[][] = [
  ["tag", "", "x:1"], ["rmi", ""], ["inspect", ""], ["history", ""],
  ["save", "hostile/none:1", "-o", ""], ["load", "-i", ""],
];

/** Commands whose options end at their first operand, as docker's `run` and `exec`. */
const OPTIONS_END_AT_OPERAND = new Set(["run", "exec"]);

/** Runs every command line and checks it is a usage error. */
async function sweep(t: Tally, cases: string[][]): Promise<void> {
  const results = await mapLimit(cases, 3, async (args) => ({ args, r: await tbuild(args) }));
  for (const { args, r } of results) {
    await t.check(`tbuild ${args.map((a) => (a === "" ? '""' : a.length > 40 ? `${a.slice(0, 20)}…` : a)).join(" ")}`, () => {
      expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^tbuild\b/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
}

describe("the tbuild command line", () => {
  it("answers bad flags and values with a usage error, exit 2", async (ctx) => {
    const t = new Tally(ctx, "inputs");
    const specs = await mapLimit(await allCommands(), 2, commandSpec);
    expect(specs.length).toBeGreaterThan(10);
    const cases: string[][] = [];
    for (const s of specs) {
      const args = placeholders(s);
      cases.push([...s.path, "--no-such-flag", ...args], [...s.path, "-Z", ...args]);
      if (s.required > 0) cases.push([...s.path, ...placeholders(s, s.required - 1)]);
      if (!s.variadic) cases.push([...s.path, ...placeholders(s, s.required + s.optional), "extra-argument"]);
      for (const o of s.options) {
        const flag = o.flags[o.flags.length - 1]!;
        // `run IMAGE CMD…` and `exec C CMD…`: options end at the first operand (Docker's rule),
        // so a flag after it is the command's; a value-less flag is tried at the end of the options.
        if (o.takesValue) cases.push(OPTIONS_END_AT_OPERAND.has(s.path[0]!) ? [...s.path, flag] : [...s.path, ...args, flag]);
        if (o.choices) cases.push([...s.path, flag, "not-a-choice", ...args]);
      }
    }
    cases.push(...MALFORMED);
    // Inside `npm test` every third command line (each kind of case still appears); all of
    // them under `npm run test:hostile`.
    await sweep(t, FULL ? cases : cases.filter((_, i) => i % 3 === 0));
    await t.check("no command had a side effect", () => {
      expect(existsSync(root) ? readdirSync(path.join(root, "images")).length : 0).toBe(0);
    });
    console.log(`cli usage: ${specs.length} commands, ${t.tried - 1} of ${cases.length} bad command lines tried`);
    t.assertClean();
  }, 300_000);

  // Fixed (cli program-kit): empty arguments and option values are usage errors.
  it("answers empty references and paths with a usage error, exit 2", async () => {
    const t = new Tally(undefined, "inputs");
    await sweep(t, KNOWN_BAD);
    t.assertClean();
  });
});
