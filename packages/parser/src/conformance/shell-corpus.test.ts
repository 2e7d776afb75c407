import { describe, expect, it } from "vitest";
import { conformanceDir } from "./locate.js";
import { runEnvVarTest, runWordsTest } from "./shell-corpus.js";

const root = conformanceDir();

describe("BuildKit shell-lexer tables", () => {
  it("envVarTest: every non-Windows row passes", () => {
    const { results, skipped } = runEnvVarTest(root);
    expect(results.length).toBe(228);
    expect(skipped).toBe(2);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });
  it("wordsTest: every row passes", () => {
    const { results } = runWordsTest(root);
    expect(results.length).toBe(24);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });
});
