import { describe, expect, it } from "vitest";
import { comparePaths } from "./fs-order.js";
import { goFileMode } from "./go-file-mode.js";

describe("fsutil's wire conventions", () => {
  it("orders paths as a depth-first walk with names in byte order (a, a/b, a-b)", () => {
    expect(["a-b", "a/b", "a", "b", "a/c/d", "a.txt"].sort(comparePaths)).toEqual(["a", "a/b", "a/c/d", "a-b", "a.txt", "b"]);
  });

  it("sends Go's os.FileMode bits, not st_mode", () => {
    expect(goFileMode(0o100644)).toBe(0o644);
    expect(goFileMode(0o040755)).toBe(2 ** 31 + 0o755);
    expect(goFileMode(0o120777)).toBe(2 ** 27 + 0o777);
    expect(goFileMode(0o104755)).toBe(2 ** 23 + 0o755); // setuid
    expect(goFileMode(0o041777)).toBe(2 ** 31 + 2 ** 20 + 0o777); // sticky dir
    expect(goFileMode(0o020666)).toBe(2 ** 26 + 2 ** 21 + 0o666); // char device
  });
});
