import { describe, expect, it } from "vitest";
import { parseBinfmtEntry } from "./binfmt.js";

describe("parseBinfmtEntry", () => {
  it("reads a qemu-user-static entry as the kernel shows it", () => {
    const text = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n";
    const e = parseBinfmtEntry("qemu-aarch64", text);
    expect(e).toMatchObject({ name: "qemu-aarch64", enabled: true, flags: "POCF", offset: 0 });
    expect(e.magic?.toString("hex")).toBe("7f454c460201010000000000000000000200b700");
    expect(e.mask?.length).toBe(20);
  });
  it("reads a disabled entry and an extension entry (no magic)", () => {
    const e = parseBinfmtEntry("x", "disabled\ninterpreter /bin/x\nflags: \nextension .exe\n");
    expect(e.enabled).toBe(false);
    expect(e.magic).toBeUndefined();
  });
});
