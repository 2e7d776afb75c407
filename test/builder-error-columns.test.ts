// Errors in the Dockerfile point at the word that is wrong (file:line:column), as the
// README promises: an unterminated quote is found before any step runs, at the quote; a
// missing COPY source at the column of its source word. Needs root (builds run in the sandbox).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerfileSyntaxError, StepError, type BuildEvent } from "@tbuild/builder";
import { makeBuildEnv, type BuildEnv } from "./support/build-env.js";

let env: BuildEnv;
beforeAll(async () => {
  env = await makeBuildEnv();
});
afterAll(() => env?.dispose());

/** Runs a build that must fail; the error and the events it emitted. */
async function failing(files: Record<string, string>): Promise<{ err: any; events: BuildEvent[] }> {
  const events: BuildEvent[] = [];
  const { build } = await import("@tbuild/builder");
  const h = build({ context: env.context(files), root: env.root });
  const collect = (async () => {
    for await (const e of h) events.push(e);
  })();
  const err = await h.result.then(() => undefined, (e) => e);
  await collect;
  expect(err).toBeDefined();
  return { err, events };
}

describe("error locations", () => {
  it("reports an unterminated quote before any step runs, once, at the quote", async () => {
    const { err, events } = await failing({ Dockerfile: 'FROM busybox\nRUN true\nENV B=ok A="unterminated\n' });
    expect(err).toBeInstanceOf(DockerfileSyntaxError);
    expect(err.message).toBe('Dockerfile:3:12: failed to process "\\"unterminated": unexpected end of statement while looking for matching double-quote');
    expect(events.filter((e) => e.type === "step-start")).toEqual([]);
    expect(events.filter((e) => e.type === "step-error")).toEqual([]);
  });

  it("finds the quote on a continuation line and in a later stage", async () => {
    const { err, events } = await failing({ Dockerfile: "FROM busybox AS a\nRUN true\nFROM a\nLABEL x=1 \\\n    y='open\n" });
    expect(err).toBeInstanceOf(DockerfileSyntaxError);
    expect([err.line, err.column]).toEqual([5, 7]);
    expect(err.sourceLine).toBe("    y='open");
    expect(events.filter((e) => e.type === "step-start")).toEqual([]);
  });

  it("gives a missing COPY source the column of its word", async () => {
    const { err } = await failing({ Dockerfile: "FROM busybox\n\nCOPY --chmod=644 a.txt  nope.txt /x/\n", "a.txt": "a" });
    expect(err).toBeInstanceOf(StepError);
    expect(err.location).toEqual({ file: "Dockerfile", line: 3, column: 25 });
  });

  it("gives a missing source on a continuation line its own line and column", async () => {
    const { err } = await failing({ Dockerfile: "FROM busybox\nCOPY a.txt \\\n  gone/ /x/\n", "a.txt": "a" });
    expect(err).toBeInstanceOf(StepError);
    expect(err.location).toEqual({ file: "Dockerfile", line: 3, column: 3 });
  });
});
