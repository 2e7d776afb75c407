import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scratchDir } from "../test-support/tmp.js";
import { entryStatOf, listers, type DirListing } from "./dir-stats.js";

let tmp: ReturnType<typeof scratchDir>;
beforeEach(() => (tmp = scratchDir()));
afterEach(() => tmp.cleanup());

/** name → its stat (or its error's code), sorted by name. */
function facts(listing: DirListing): [string, unknown][] {
  return listing.names
    .map((name, i): [string, unknown] => {
      try {
        return [name, listing.stat(i)];
      } catch (e) {
        return [name, (e as NodeJS.ErrnoException).code];
      }
    })
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

describe("listing a context directory", () => {
  it("gives the same names and stats with the addon as with Node's lstat", () => {
    expect(listers.addon, "native/dir-stats.node is built by npm run build (gcc, Node's headers)").toBeDefined();
    const dir = tmp.dir;
    writeFileSync(path.join(dir, "file.txt"), "hello");
    mkdirSync(path.join(dir, "sub"), { mode: 0o750 });
    symlinkSync("file.txt", path.join(dir, "link"));
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    // A name that is not UTF-8: both decode it the same way (the walk rejects it).
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff])]), "");
    const native = facts(listers.addon!(dir));
    const node = facts(listers.node(dir));
    expect(native.map(([n]) => n)).toEqual(["bad-\uFFFD", "fifo", "file.txt", "link", "sub"]);
    // Node cannot lstat a decoded name that was not UTF-8 (ENOENT); the addon stats the raw one.
    expect(node[0]).toEqual(["bad-\uFFFD", "ENOENT"]);
    expect(native.slice(1)).toEqual(node.slice(1));
    // The stat cache's fingerprint is the same whichever lister ran.
    const file = native.find(([n]) => n === "file.txt")![1] as { fingerprint: string };
    expect(file.fingerprint).toBe(entryStatOf(lstatSync(path.join(dir, "file.txt"), { bigint: true })).fingerprint);
  });

  it("fails like Node's readdir: a missing directory, a file, a symlink to a directory", () => {
    const dir = tmp.dir;
    writeFileSync(path.join(dir, "f"), "");
    mkdirSync(path.join(dir, "real"));
    symlinkSync("real", path.join(dir, "to-real"));
    for (const list of [listers.addon!, listers.node]) {
      expect(() => list(path.join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
      expect(() => list(path.join(dir, "f"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
    }
    // The addon does not follow a symlink swapped in for a directory; readdir would.
    expect(() => listers.addon!(path.join(dir, "to-real"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
  });
});
