import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readXattrSidecar, writeXattrSidecar } from "./xattr-sidecar.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync("/dev/shm/tbuild-sidecar-");
  mkdirSync(path.join(dir, "fs"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("xattr sidecar", () => {
  it("round-trips binary values and drops entries without attributes", () => {
    const cap = Buffer.from("0100000200200000000000000000000000000000", "hex");
    writeXattrSidecar(dir, new Map([
      ["", new Map()],
      ["bin/ping", new Map([["security.capability", cap]])],
      ["etc", new Map([["trusted.overlay.opaque", Buffer.from("y")], ["user.note", Buffer.from("é\u0000x")]])],
    ]));
    const back = readXattrSidecar(path.join(dir, "fs"))!;
    expect([...back.keys()]).toEqual(["bin/ping", "etc"]);
    expect(back.get("bin/ping")!.get("security.capability")!.equals(cap)).toBe(true);
    expect(back.get("etc")!.get("user.note")!.toString()).toBe("é\u0000x");
  });

  it("answers undefined without a record, for a corrupt one, or for a tree not named fs", () => {
    expect(readXattrSidecar(path.join(dir, "fs"))).toBeUndefined();
    writeFileSync(path.join(dir, "xattrs.json"), "{not json");
    expect(readXattrSidecar(path.join(dir, "fs"))).toBeUndefined();
    writeFileSync(path.join(dir, "xattrs.json"), JSON.stringify({ v: 99, e: [] }));
    expect(readXattrSidecar(path.join(dir, "fs"))).toBeUndefined();
    writeXattrSidecar(dir, new Map());
    expect(readXattrSidecar(path.join(dir, "fs"))).toEqual(new Map());
    expect(readXattrSidecar(dir)).toBeUndefined();
  });
});
