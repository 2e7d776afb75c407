import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CommandError, UsageError } from "../errors.js";
import { findComposeFile, normalizeProjectName } from "./discover.js";
import { parseDotEnv } from "./dotenv.js";
import { interpolate } from "./interpolate.js";
import { loadComposeProject } from "./project.js";

const fixture = resolve(import.meta.dirname, "../../../../fixtures/compose");
const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync("/dev/shm/tbuild-compose-");
  tmpDirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("interpolate", () => {
  const vars: Record<string, string> = { A: "a", EMPTY: "" };
  const lookup = (n: string) => vars[n];
  it.each([
    ["$A/${A}", "a/a"],
    ["${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|${UNSET:-d}", "d||d|d"],
    ["${A:+set}|${EMPTY:+set}|${EMPTY+set}|${UNSET+set}", "set||set|"],
    ["${UNSET:-${A}-x}", "a-x"],
    ["$$A costs $$5", "$A costs $5"],
    ["price: $ 5", "price: $ 5"],
    ["${A}bc$A_b", "abc"],
  ])("%s", (text, want) => {
    expect(interpolate(text, { lookup })).toBe(want);
  });
  it("reports unset variables once they default to empty", () => {
    const unset: string[] = [];
    expect(interpolate("x${NOPE}y$NOPE2", { lookup, onUnset: (n) => unset.push(n) })).toBe("xy");
    expect(unset).toEqual(["NOPE", "NOPE2"]);
  });
  it("fails required variables with their message", () => {
    expect(() => interpolate("${UNSET:?set UNSET to your API key}", { lookup, path: "services.x.image" })).toThrow(
      /required variable UNSET is missing a value \(in services.x.image\): set UNSET to your API key/,
    );
    expect(() => interpolate("${EMPTY?oops}", { lookup })).not.toThrow();
    expect(() => interpolate("${EMPTY:?oops}", { lookup })).toThrow(CommandError);
  });
  it("rejects malformed references", () => {
    expect(() => interpolate("${A", { lookup })).toThrow(/invalid interpolation/);
    expect(() => interpolate("${1A}", { lookup })).toThrow(/invalid interpolation/);
    expect(() => interpolate("${A!x}", { lookup })).toThrow(/invalid interpolation/);
  });
});

describe("parseDotEnv", () => {
  it("parses compose's .env syntax", () => {
    const text = [
      "# comment",
      "PLAIN=value # inline comment",
      "export EXPORTED=yes",
      "SINGLE='literal $PLAIN \\n'",
      'DOUBLE="tab\\tand ${PLAIN} and \\"q\\""',
      'MULTI="line1',
      'line2"',
      "REF=${PLAIN}-${OUTSIDE}",
      "SPACED = trimmed ",
      "EMPTY=",
      "PASSTHROUGH",
      "MISSING_PASSTHROUGH",
      "",
    ].join("\n");
    const vars = parseDotEnv(text, (n) => ({ OUTSIDE: "out", PASSTHROUGH: "pt" })[n]);
    expect(Object.fromEntries(vars)).toEqual({
      PLAIN: "value",
      EXPORTED: "yes",
      SINGLE: "literal $PLAIN \\n",
      DOUBLE: 'tab\tand value and "q"',
      MULTI: "line1\nline2",
      REF: "value-out",
      SPACED: "trimmed",
      EMPTY: "",
      PASSTHROUGH: "pt",
    });
  });
  it("names the file and line of a bad entry", () => {
    expect(() => parseDotEnv("A=1\n=2\n", undefined, "/p/.env")).toThrow(/\/p\/\.env:2: invalid line/);
    expect(() => parseDotEnv('A="open\n', undefined, ".env")).toThrow(/\.env:1: unterminated " quote for A/);
  });
});

describe("findComposeFile", () => {
  it("prefers compose.yaml and searches parent directories", () => {
    const d = tmp();
    writeFileSync(join(d, "docker-compose.yml"), "services: {}\n");
    mkdirSync(join(d, "sub/deeper"), { recursive: true });
    expect(findComposeFile(join(d, "sub/deeper"))).toBe(join(d, "docker-compose.yml"));
    writeFileSync(join(d, "compose.yaml"), "services: {}\n");
    expect(findComposeFile(join(d, "sub"))).toBe(join(d, "compose.yaml"));
  });
  it("resolves an explicit file and reports a missing one", () => {
    const d = tmp();
    writeFileSync(join(d, "my.yml"), "services: {}\n");
    expect(findComposeFile(d, "my.yml")).toBe(join(d, "my.yml"));
    expect(() => findComposeFile(d, "nope.yml")).toThrow(/compose file nope.yml not found/);
  });
  it("normalises project names like compose", () => {
    expect(normalizeProjectName("My App.v2")).toBe("myappv2");
    expect(normalizeProjectName("_x-Y_")).toBe("x-y_");
  });
});

describe("loadComposeProject on fixtures/compose", () => {
  it("plans the two buildable services and leaves the other alone", () => {
    const p = loadComposeProject({ file: join(fixture, "compose.yaml"), env: { BUILD_NOTE: "ci" } });
    expect(p.name).toBe("compose");
    expect(p.skipped).toEqual(["cache"]);
    expect(p.warnings).toEqual([]);
    expect(p.builds.map((b) => b.service)).toEqual(["web", "worker"]);
    const [web, worker] = p.builds;
    expect(web!.options).toEqual({ context: join(fixture, "web"), dockerfile: join(fixture, "web/Dockerfile"), tags: ["compose-web:dev"] });
    expect(worker!.options).toEqual({
      context: join(fixture, "worker"),
      dockerfile: join(fixture, "worker/Dockerfile.worker"),
      target: "runtime",
      buildArgs: { GREETING: "hello from .env", BUILD_NOTE: "ci" },
      labels: { "org.example.role": "worker" },
      tags: ["compose-worker", "compose-worker:extra"],
    });
  });
  it("lets the environment override .env, and -p the project name", () => {
    const p = loadComposeProject({ file: join(fixture, "compose.yaml"), env: { GREETING: "env wins", WEB_IMAGE: "w:1" }, projectName: "Demo", services: ["worker", "web"] });
    expect(p.name).toBe("demo");
    expect(p.builds.find((b) => b.service === "web")!.options.tags).toEqual(["w:1"]);
    const worker = p.builds.find((b) => b.service === "worker")!;
    expect(worker.options.buildArgs).toEqual({ GREETING: "env wins" });
    expect(worker.options.tags).toEqual(["demo-worker", "compose-worker:extra"]);
  });
  it("rejects an unknown service as a usage error", () => {
    expect(() => loadComposeProject({ file: join(fixture, "compose.yaml"), env: {}, services: ["nope"] })).toThrow(UsageError);
  });
});

describe("loadComposeProject edge cases", () => {
  function project(yaml: string, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
    const d = tmp();
    writeFileSync(join(d, "compose.yaml"), yaml);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    return { dir: d, p: () => loadComposeProject({ file: join(d, "compose.yaml"), env }) };
  }
  it("reads map-form args with null values from the environment, top-level name, secrets and inline Dockerfiles", () => {
    const { dir, p } = project(
      [
        "name: Named",
        "services:",
        "  app:",
        "    build:",
        "      context: .",
        "      dockerfile_inline: |",
        "        FROM scratch",
        "      args: { FROM_ENV: null, NUM: 3, MISSING: }",
        "      secrets: [npm, { source: tok, target: token }]",
        "      network: none",
        "      no_cache: true",
        "      platforms: [linux/x86_64]",
        "      x-custom: ignored",
        "      shm_size: 1g",
        "secrets:",
        "  npm: { file: ./npmrc }",
        "  tok: { environment: TOKEN }",
      ].join("\n"),
      { FROM_ENV: "e" },
    );
    const [b] = p().builds;
    expect(b!.options).toEqual({
      context: dir,
      dockerfileText: "FROM scratch\n",
      buildArgs: { FROM_ENV: "e", NUM: "3" },
      tags: ["named-app"],
      network: "none",
      noCache: true,
      platform: "linux/amd64",
      secrets: [{ id: "npm", src: join(dir, "npmrc") }, { id: "token", env: "TOKEN" }],
    });
    expect(p().warnings).toEqual(["app: ignoring unsupported build option shm_size"]);
  });
  it("builds every platform of build.platforms in one multi-platform build", () => {
    const { p } = project(["services:", "  app:", "    build:", "      context: .", "      platforms: [linux/x86_64, linux/arm64, linux/arm/v7]"].join("\n"));
    expect(p().builds[0]!.options.platform).toBe("linux/amd64,linux/arm64,linux/arm/v7");
  });
  it("warns about unset variables and rejects remote contexts and bad shapes", () => {
    expect(project("services:\n  a:\n    build: .\n    image: x${TAG}\n").p().warnings).toEqual([
      'the "TAG" variable is not set; defaulting to a blank string',
    ]);
    expect(() => project("services:\n  a:\n    build: https://github.com/x/y.git\n").p()).toThrow(/remote contexts/);
    expect(() => project("services: [1]\n").p()).toThrow(/services must be a mapping/);
    expect(() => project("services:\n  a:\n    build: { args: 5 }\n").p()).toThrow(/args must be a mapping/);
    expect(() => project("services: {a: {build: .}\n").p()).toThrow(CommandError);
  });
});
