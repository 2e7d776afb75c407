import { describe, expect, it } from "vitest";
import { chmodBits, goFileMode } from "./go-file-mode.js";

describe("Go's os.FileMode", () => {
  it("moves setuid, setgid and sticky to Go's high bits and back (a /tmp of 1777, a 4755 binary)", () => {
    for (const st of [0o041777, 0o104755, 0o102755, 0o100644, 0o040700]) {
      expect(chmodBits(goFileMode(st))).toBe(st & 0o7777);
    }
    expect(goFileMode(0o041777) & 0o7777).toBe(0o777);
  });
});
