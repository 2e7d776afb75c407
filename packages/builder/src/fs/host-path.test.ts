import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readFileInRoot } from "./host-path.js";

let tmp: string;
let root: string;

beforeAll(async () => {
  tmp = await mkdtemp("/dev/shm/tbuild-hostpath-");
  root = join(tmp, "root");
  await mkdir(join(root, "docker"), { recursive: true });
  await writeFile(join(tmp, "outside"), "outside\n");
  await writeFile(join(root, "docker/Dockerfile"), "inside\n");
  await writeFile(join(root, "outside"), "clamped\n");
  await symlink("docker/Dockerfile", join(root, "inner-link"));
  await symlink(join(tmp, "outside"), join(root, "abs-link"));
  await symlink("../outside", join(root, "up-link"));
  await symlink("/", join(root, "slash"));
  await symlink("/nowhere", join(root, "dangling"));
  execFileSync("mkfifo", [join(root, "fifo")]);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe("readFileInRoot", () => {
  it("follows links inside the root", async () => {
    expect((await readFileInRoot(root, "inner-link")).toString()).toBe("inside\n");
    expect((await readFileInRoot(root, "slash/docker/Dockerfile")).toString()).toBe("inside\n");
  });
  it("clamps absolute and climbing links at the root", async () => {
    // The absolute link names <root><tmp>/outside once confined (missing), never <tmp>/outside.
    await expect(readFileInRoot(root, "abs-link")).rejects.toMatchObject({ code: "ENOENT" });
    expect((await readFileInRoot(root, "up-link")).toString()).toBe("clamped\n");
    expect((await readFileInRoot(root, "../../outside")).toString()).toBe("clamped\n");
  });
  it("refuses missing files, directories and FIFOs without blocking", async () => {
    await expect(readFileInRoot(root, "dangling")).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readFileInRoot(root, "docker")).rejects.toMatchObject({ code: "EISDIR" });
    await expect(readFileInRoot(root, "fifo")).rejects.toMatchObject({ code: "EINVAL" });
  });
});
