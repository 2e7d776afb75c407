// Needs root (mknod of whiteouts, trusted.* xattrs) and the `attr` tools.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile, link } from "node:fs/promises";
import { join } from "node:path";
import { LayeredView } from "./layered-view.js";
import { resolveHostPath, secureJoin } from "./host-path.js";

let tmp: string;
let bottom: string, middle: string, top: string;

async function file(root: string, p: string, content: string) {
  await mkdir(join(root, p, ".."), { recursive: true });
  await writeFile(join(root, p), content);
}
function whiteout(root: string, p: string) {
  execFileSync("mknod", [join(root, p), "c", "0", "0"]);
}

beforeAll(async () => {
  tmp = await mkdtemp("/dev/shm/tbuild-view-");
  bottom = join(tmp, "bottom");
  middle = join(tmp, "middle");
  top = join(tmp, "top");
  for (const d of [bottom, middle, top]) await mkdir(d);
  await file(bottom, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  await file(bottom, "app/a", "a-bottom");
  await file(bottom, "app/b", "b-bottom");
  await file(bottom, "app/sub/x", "x");
  await file(bottom, "gone/file", "g");
  await file(bottom, "opq/old", "old");
  await file(bottom, "hard/one", "h");
  await link(join(bottom, "hard/one"), join(bottom, "hard/two"));
  await symlink("/app", join(bottom, "lnk"));
  await symlink("../../../../etc", join(bottom, "app/up"));
  await symlink("loop2", join(bottom, "loop1"));
  await symlink("loop1", join(bottom, "loop2"));
  // middle: delete app/b and gone/, make opq opaque, add app/c
  await mkdir(join(middle, "app"));
  whiteout(middle, "app/b");
  whiteout(middle, "gone");
  await file(middle, "opq/new", "new");
  execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(middle, "opq")]);
  await file(middle, "app/c", "c-middle");
  // top: replace app/a, turn the directory app/sub into a file, re-create gone/ as a new dir
  await file(top, "app/a", "a-top");
  await writeFile(join(top, "app/sub"), "now a file");
  await file(top, "gone/fresh", "fresh");
  execFileSync("setfattr", ["-n", "user.note", "-v", "hi", join(top, "app/a")]);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("LayeredView", () => {
  it("takes each name from the top-most layer holding it", async () => {
    const v = new LayeredView([top, middle, bottom]);
    expect((await v.readFile("/app/a")).toString()).toBe("a-top");
    expect((await v.readFile("/app/c")).toString()).toBe("c-middle");
    expect((await v.lstat("/app/a"))!.layer).toBe(0);
    expect((await v.lstat("/etc/passwd"))!.hostPath).toBe(join(bottom, "etc/passwd"));
  });

  it("honours whiteouts and merges directory listings", async () => {
    const v = new LayeredView([top, middle, bottom]);
    expect(await v.lstat("/app/b")).toBeUndefined();
    expect(await v.readdir("/app")).toEqual(["a", "c", "sub", "up"]);
    expect(await v.readdir("/")).toEqual(["app", "etc", "gone", "hard", "lnk", "loop1", "loop2", "opq"]);
    // A directory re-created above a whiteout does not see what the whiteout hid.
    expect(await v.readdir("/gone")).toEqual(["fresh"]);
    expect(await v.lstat("/gone/file")).toBeUndefined();
  });

  it("honours opaque directories", async () => {
    const v = new LayeredView([top, middle, bottom]);
    expect(await v.readdir("/opq")).toEqual(["new"]);
    expect(await v.lstat("/opq/old")).toBeUndefined();
    // Without the opaque layer on top, the old file is visible.
    expect(await new LayeredView([bottom]).readdir("/opq")).toEqual(["old"]);
  });

  it("lets a non-directory hide a lower directory", async () => {
    const v = new LayeredView([top, middle, bottom]);
    const st = await v.lstat("/app/sub");
    expect(st!.type).toBe("file");
    expect(await v.lstat("/app/sub/x")).toBeUndefined();
    await expect(v.readdir("/app/sub")).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("reports metadata, link targets, hardlink identity and xattrs", async () => {
    const v = new LayeredView([top, middle, bottom]);
    const lnk = await v.lstat("/lnk");
    expect(lnk).toMatchObject({ type: "symlink", linkTarget: "/app" });
    const one = await v.lstat("/hard/one");
    const two = await v.lstat("/hard/two");
    expect(one!.ino).toBe(two!.ino);
    expect(one!.nlink).toBe(2);
    expect((await v.xattrs("/app/a")).get("user.note")?.toString()).toBe("hi");
    // overlay bookkeeping is not a file attribute
    expect((await v.xattrs("/opq")).size).toBe(0);
  });

  it("resolves symlinks inside the root, clamping .. and absolute targets", async () => {
    const v = new LayeredView([top, middle, bottom]);
    expect(await v.resolve("/lnk/c")).toBe("/app/c");
    expect(await v.resolve("/app/up/passwd")).toBe("/etc/passwd");
    expect(await v.resolve("/lnk", { followFinal: false })).toBe("/lnk");
    expect(await v.resolve("/../../lnk/../etc")).toBe("/etc");
    expect(await v.resolve("/missing/../app/a")).toBe("/app/a");
    expect((await v.readFile("/lnk/up/passwd")).toString()).toContain("root:x:0:0");
    await expect(v.resolve("/loop1")).rejects.toMatchObject({ code: "ELOOP" });
    await expect(v.readFile("/app")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(v.readFile("/nope")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("streams files and walks the merged tree in order", async () => {
    const v = new LayeredView([top, middle, bottom]);
    const chunks: Buffer[] = [];
    for await (const c of v.openRead("/lnk/c")) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("c-middle");
    const seen: string[] = [];
    for await (const st of v.walk("/")) seen.push(st.path);
    expect(seen).toEqual([
      "/", "/app", "/app/a", "/app/c", "/app/sub", "/app/up", "/etc", "/etc/passwd", "/gone", "/gone/fresh",
      "/hard", "/hard/one", "/hard/two", "/lnk", "/loop1", "/loop2", "/opq", "/opq/new",
    ]);
  });

  it("is empty without layers", async () => {
    const v = new LayeredView([]);
    expect(await v.lstat("/")).toBeUndefined();
  });
});

describe("host paths", () => {
  it("secureJoin never leaves the root lexically", () => {
    expect(secureJoin("/r", "../../etc/passwd")).toBe("/r/etc/passwd");
    expect(secureJoin("/r/", "/")).toBe("/r");
  });

  it("resolveHostPath follows links inside the root only", async () => {
    expect(await resolveHostPath(bottom, "/app/up/passwd")).toEqual({ path: "/etc/passwd", hostPath: join(bottom, "etc/passwd") });
    expect((await resolveHostPath(bottom, "/lnk/../etc")).path).toBe("/etc");
  });
});
