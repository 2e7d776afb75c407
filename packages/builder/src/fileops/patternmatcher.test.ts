import { describe, expect, it } from "vitest";
import { goClean, PatternMatcher } from "./patternmatcher.js";

function m(patterns: string[], file: string): boolean {
  return new PatternMatcher(patterns).matches(file, undefined).matched;
}

describe("PatternMatcher (moby/patternmatcher semantics)", () => {
  it("matches whole paths and their parents", () => {
    expect(m(["*.txt"], "a.txt")).toBe(true);
    expect(m(["*.txt"], "dir/a.txt")).toBe(false);
    expect(m(["dir"], "dir/a.txt")).toBe(true);
    expect(m(["dir/*"], "dir/sub/a.txt")).toBe(true);
    expect(m(["*/*.png"], "dir1/file.png")).toBe(true);
  });
  it("supports ** at any position", () => {
    expect(m(["**/*.go"], "a.go")).toBe(true);
    expect(m(["**/*.go"], "x/y/a.go")).toBe(true);
    expect(m(["src/**/*.txt"], "src/a.txt")).toBe(true);
    expect(m(["src/**/*.txt"], "src/x/y/c.txt")).toBe(true);
    expect(m(["src/**"], "src/x")).toBe(true);
    expect(m(["**"], "anything/at/all")).toBe(true);
    expect(m(["c/**/e"], "c/d/e/bay")).toBe(true);
  });
  it("lets the last matching pattern win, with ! exceptions", () => {
    expect(m(["*.md", "!README.md"], "README.md")).toBe(false);
    expect(m(["*.md", "!README.md"], "NOTES.md")).toBe(true);
    expect(m(["**", "!bar/baz"], "bar/baz/foo")).toBe(false);
    expect(new PatternMatcher(["a", "!b"]).hasExclusions).toBe(true);
  });
  it("escapes regex syntax and keeps classes", () => {
    expect(m(["a.b"], "axb")).toBe(false);
    expect(m(["a.b"], "a.b")).toBe(true);
    expect(m(["file-[0-9].txt"], "file-3.txt")).toBe(true);
    expect(m(["a\\*b"], "a*b")).toBe(true);
    expect(m(["(x)"], "(x)")).toBe(true);
  });
  it("passes parent results down", () => {
    const pm = new PatternMatcher(["dir"]);
    const parent = pm.matches("dir", undefined);
    expect(parent.matched).toBe(true);
    expect(pm.matches("dir/x", parent.info).matched).toBe(true);
  });
  it("cleans like filepath.Clean", () => {
    expect(goClean("./a/../b/")).toBe("b");
    expect(goClean("../a")).toBe("../a");
    expect(goClean("/../a")).toBe("/a");
    expect(goClean("")).toBe(".");
  });
});
