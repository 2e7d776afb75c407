import { describe, expect, it } from "vitest";
import { parseChmod } from "./chmod.js";

const f = (spec: string, mode: number, isDir = false) => parseChmod(spec)(mode, isDir);

describe("parseChmod", () => {
  it("takes octal modes as they are", () => {
    expect(f("755", 0o600)).toBe(0o755);
    expect(f("0644", 0o777)).toBe(0o644);
    expect(f("4755", 0o600)).toBe(0o4755);
    expect(parseChmod("640").octal).toBe(0o640);
  });
  it("rejects octal values above 07777 with BuildKit's message", () => {
    expect(() => parseChmod("17777")).toThrow("it should be octal string and between 0 and 07777");
    expect(() => parseChmod("9")).toThrow("it should be octal string and between 0 and 07777");
  });
  it("applies symbolic modes like chmod(1) with umask 0", () => {
    expect(f("+x", 0o644)).toBe(0o755);
    expect(f("u+x", 0o644)).toBe(0o744);
    expect(f("go-w", 0o666)).toBe(0o644);
    expect(f("a=r", 0o777)).toBe(0o444);
    expect(f("u=rwX,go=rX", 0o600)).toBe(0o644);
    expect(f("u=rwX,go=rX", 0o700)).toBe(0o755);
    expect(f("u=rwX,go=rX", 0o600, true)).toBe(0o755);
    expect(f("g=u", 0o750)).toBe(0o770);
    expect(f("o=g", 0o750)).toBe(0o755);
    expect(f("g+u", 0o604)).toBe(0o664);
    expect(f("u+s", 0o755)).toBe(0o4755);
    expect(f("g+s", 0o755)).toBe(0o2755);
    expect(f("+t", 0o755, true)).toBe(0o1755);
    expect(f("o+t", 0o755, true)).toBe(0o755);
    expect(f("=", 0o755)).toBe(0o000);
    expect(f("u=rw,g=,o=", 0o777)).toBe(0o600);
    expect(f("u+r-w", 0o200)).toBe(0o400);
    expect(f("a-x", 0o4755)).toBe(0o4644);
    expect(f("u=rw", 0o4755)).toBe(0o655);
  });
  it("rejects malformed symbolic modes", () => {
    for (const bad of ["", "u", "x+r", "u+q", "u+r,", "rwx"]) expect(() => parseChmod(bad)).toThrow(/invalid chmod parameter/);
  });
});
