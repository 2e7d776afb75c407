import { describe, expect, it } from "vitest";
import { BadPatternError, containsWildcards, goMatch, splitWildcards } from "./go-match.js";

// Cases follow the behaviour documented for Go's path/filepath.Match.
describe("goMatch", () => {
  const cases: [string, string, boolean][] = [
    ["abc", "abc", true],
    ["*", "abc", true],
    ["*c", "abc", true],
    ["a*", "a", true],
    ["a*", "abc", true],
    ["a*", "ab/c", false],
    ["a*/b", "abc/b", true],
    ["a*/b", "a/c/b", false],
    ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
    ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
    ["a*b?c*x", "abxbbxdbxebxczzx", true],
    ["a*b?c*x", "abxbbxdbxebxczzy", false],
    ["ab[c]", "abc", true],
    ["ab[b-d]", "abc", true],
    ["ab[e-g]", "abc", false],
    ["ab[^c]", "abc", false],
    ["ab[^b-d]", "abc", false],
    ["ab[^e-g]", "abc", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "ab", false],
    ["a?b", "a☺b", true],
    ["a[^a]b", "a☺b", true],
    ["a???b", "a☺b", false],
    ["[a-ζ]*", "α", true],
    ["*[a-ζ]", "A", false],
    ["a?b", "a/b", false],
    ["a*b", "a/b", false],
    ["[\\]a]", "]", true],
    ["[\\-]", "-", true],
    ["[x\\-]", "x", true],
    ["[x\\-]", "-", true],
    ["[x\\-]", "z", false],
    ["*x", "xxx", true],
    ["[[]", "[", true],
  ];
  for (const [pattern, name, want] of cases) {
    it(`${pattern} ~ ${name} → ${want}`, () => expect(goMatch(pattern, name)).toBe(want));
  }
  for (const bad of ["[]a]", "[-]", "[x-]", "[a-b-c]", "[", "[^", "[^bc", "a[", "\\", "[\\"]) {
    it(`rejects ${bad}`, () => expect(() => goMatch(bad, "a")).toThrow(BadPatternError));
  }
  it("reports a malformed pattern tail even without a match", () => {
    expect(() => goMatch("x*[", "abc")).toThrow(BadPatternError);
  });
});

describe("wildcard helpers", () => {
  it("finds unescaped wildcards", () => {
    expect(containsWildcards("a*b")).toBe(true);
    expect(containsWildcards("a\\*b")).toBe(false);
    expect(containsWildcards("a[b]")).toBe(true);
    expect(containsWildcards("plain")).toBe(false);
  });
  it("splits at the first wildcard component", () => {
    expect(splitWildcards("/a/b*/c")).toEqual({ base: "/a", pattern: "b*/c" });
    expect(splitWildcards("/*.txt")).toEqual({ base: "/", pattern: "*.txt" });
    expect(splitWildcards("/a/b")).toEqual({ base: "/a/b", pattern: "" });
  });
});
