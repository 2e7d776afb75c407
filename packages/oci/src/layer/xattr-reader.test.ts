// The two readers of a tree's extended attributes agree: native/xattrs.node (in process) and
// getfattr -R (the fallback). Needs root (trusted.* and security.* attributes) and the addon
// built (npm run build: gcc, Node's headers).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readXattrs, readXattrsWithGetfattr, writeXattrs, xattrReader } from "./xattr.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tbuild-xattr-"));
const outside = mkdtempSync(path.join(os.tmpdir(), "tbuild-xattr-outside-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("reading a tree's extended attributes", () => {
  it("gives what getfattr gives: every entry's own attributes, symlinks not followed", async () => {
    expect(xattrReader, "native/xattrs.node is built by npm run build (gcc, Node's headers)").toBe("addon");
    mkdirSync(path.join(dir, "sub/deeper"), { recursive: true });
    writeFileSync(path.join(dir, "plain"), "no attributes");
    writeFileSync(path.join(dir, "sub/deeper/f"), "x");
    writeFileSync(Buffer.from(`${dir}/caf\xe9-latin1`, "latin1"), "a name that is not UTF-8");
    writeFileSync(path.join(outside, "target"), "outside");
    symlinkSync(outside, path.join(dir, "to-outside"));
    await writeXattrs(dir, [
      ["", new Map([["user.root", Buffer.from("r")]])],
      ["sub", new Map([["user.dir", Buffer.from([0, 1, 2, 255])]])],
      ["sub/deeper/f", new Map([["user.a", Buffer.from("1")], ["trusted.b", Buffer.alloc(0)], ["security.capability", Buffer.from("0100000200200000000000000000000000000000", "hex")]])],
      ["to-outside", new Map([["trusted.link", Buffer.from("own")]])],
    ]);
    // A path that is not UTF-8 cannot go through a JS string: python3 sets it from the bytes.
    const raw = Buffer.from(`${dir}/caf\xe9-latin1`, "latin1").toString("hex");
    execFileSync("python3", ["-c", "import os, sys; os.setxattr(bytes.fromhex(sys.argv[1]), 'user.name', b'latin1', follow_symlinks=False)", raw]);
    await writeXattrs(outside, [["target", new Map([["user.outside", Buffer.from("must not be read")]])]]);
    const native = await readXattrs(dir);
    expect(native).toEqual(await readXattrsWithGetfattr(dir));
    expect([...native.keys()].sort()).toEqual(["", "caf\uFFFD-latin1", "sub", "sub/deeper/f", "to-outside"]);
    expect(native.get("sub/deeper/f")?.get("security.capability")?.toString("hex")).toBe("0100000200200000000000000000000000000000");
    expect(native.get("to-outside")).toEqual(new Map([["trusted.link", Buffer.from("own")]]));
  });

  it("fails on a directory it cannot read, as getfattr does", async () => {
    await expect(readXattrs(path.join(dir, "missing"))).rejects.toThrow(/missing/);
  });
});
