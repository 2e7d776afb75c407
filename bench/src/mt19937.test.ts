import { describe, expect, it } from "vitest";
import { PythonRandom } from "./mt19937.js";

// Expected values printed by CPython 3.11:
//   r = random.Random(20260101); r.randbytes(13).hex(); r.randbytes(8).hex(); r.getrandbits(32)
describe("PythonRandom", () => {
  it("matches CPython's randbytes and getrandbits for the workload seed", () => {
    const r = new PythonRandom(20260101);
    expect(r.randbytes(13).toString("hex")).toBe("0196720b2521dd0259f43e4cf5");
    expect(r.randbytes(8).toString("hex")).toBe("f5c3a8018c14a51a");
    expect(r.getrandbits32(32)).toBe(3790381609);
  });

  it("matches CPython's first output for seed 0", () => {
    // random.Random(0).getrandbits(32) == 3626764237
    expect(new PythonRandom(0).getrandbits32(32)).toBe(3626764237);
  });
});
