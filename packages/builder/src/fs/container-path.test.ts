import { describe, expect, it } from "vitest";
import { baseName, cleanPath, isWithin, joinPath, parentPath, pathParts } from "./container-path.js";

describe("container paths", () => {
  it("cleans like Go's path.Clean, rooted", () => {
    for (const [input, want] of [
      ["", "/"], ["/", "/"], ["a", "/a"], ["/a/b", "/a/b"], ["/a/b/", "/a/b"], ["//a//b", "/a/b"],
      ["/a/./b", "/a/b"], ["/a/../b", "/b"], ["../../x", "/x"], ["/a/..", "/"], ["/.", "/"], ["/a/.b/..c", "/a/.b/..c"],
      ["/a/b/.", "/a/b"], ["/..", "/"],
    ]) expect(cleanPath(input!)).toBe(want);
  });
  it("splits and joins", () => {
    expect(pathParts("/a/b")).toEqual(["a", "b"]);
    expect(pathParts("/")).toEqual([]);
    expect(joinPath("/a", "../b/c")).toBe("/b/c");
    expect(parentPath("/a/b")).toBe("/a");
    expect(parentPath("/a")).toBe("/");
    expect(baseName("/a/b")).toBe("b");
    expect(isWithin("/a", "/a/b")).toBe(true);
    expect(isWithin("/a", "/ab")).toBe(false);
  });
});
