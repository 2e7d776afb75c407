import { describe, expect, it } from "vitest";
import { SourceMap } from "./source-map.js";

describe("SourceMap", () => {
  it("finds the original file of a generated position", () => {
    // line 0: col 0 → a.js, col 5 → b.js; line 1: col 2 → a.js (source index back by one)
    const m = new SourceMap({ version: "3", sources: ["a.js", "b.js"], names: [], mappings: "AAAA,KCAA;EDAA" }, "/x/bundle.js.map");
    expect(m.sourceAt(0, 3)).toBe("/x/a.js");
    expect(m.sourceAt(0, 7)).toBe("/x/b.js");
    expect(m.sourceAt(1, 4)).toBe("/x/a.js");
    expect(m.sourceAt(5, 0)).toBeUndefined();
  });
});
