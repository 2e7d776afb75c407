import { describe, expect, it } from "vitest";
import { conformanceDir } from "./locate.js";
import { runParserLineNumbers, runParserNegative, runParserTestfiles } from "./parser-corpus.js";

// The corpus lives outside the repository (../shared/conformance or $TBUILD_CONFORMANCE_DIR).
const root = conformanceDir();

describe("BuildKit parser corpus", () => {
  const testfiles = runParserTestfiles(root);
  it("has the expected number of positive cases", () => {
    expect(testfiles.length).toBe(33);
  });
  it.each(testfiles.map((r) => [r.name, r] as const))("testfiles/%s dumps like BuildKit", (_name, r) => {
    expect(r.detail ?? "", r.name).toBe("");
    expect(r.ok).toBe(true);
  });

  const negative = runParserNegative(root);
  it.each(negative.map((r) => [r.name, r] as const))("testfiles-negative/%s is rejected", (_name, r) => {
    expect(r.ok, r.detail).toBe(true);
  });

  it("reports BuildKit's line numbers for testfile-line", () => {
    const results = runParserLineNumbers(root);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });
});
