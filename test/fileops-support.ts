// Test support for the fileops tests: scratch dirs on /dev/shm, the build-context index, and
// a dump of a layer directory for exact comparisons.
import { execFileSync } from "node:child_process";
import { hashContext, type ContextIndex } from "@tbuild/cache";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export async function scratch(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(`/dev/shm/tbuild-${prefix}-`);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Indexes a build context with @tbuild/cache (no persistent stat cache). */
export function indexContext(root: string): Promise<ContextIndex> {
  return hashContext(root, { statCache: false });
}

export interface DumpEntry {
  type: "file" | "dir" | "symlink" | "char" | "other";
  mode: string;
  uid: number;
  gid: number;
  content?: string;
  link?: string;
  mtime?: number;
}

/** Every entry below `dir` (itself excluded): path → type, octal mode, owner, content or link target. */
export async function dump(dir: string, opts: { mtime?: boolean } = {}): Promise<Record<string, DumpEntry>> {
  const out: Record<string, DumpEntry> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const host = join(dir, r);
      const st = await lstat(host);
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : st.isCharacterDevice() ? "char" : "other";
      const e: DumpEntry = { type, mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), uid: st.uid, gid: st.gid };
      if (type === "file") e.content = (await readFile(host)).toString();
      if (type === "symlink") {
        e.link = await readlink(host);
        delete (e as { mode?: string }).mode;
      }
      if (opts.mtime) e.mtime = Math.floor(st.mtimeMs / 1000);
      out[r] = e;
      if (type === "dir") await walk(r);
    }
  };
  await walk("");
  return out;
}

/** Writes a tree: "path/": dir, "path": file content, "path -> target": symlink. */
export async function build(root: string, spec: Record<string, string | null>): Promise<void> {
  for (const [key, value] of Object.entries(spec)) {
    const arrow = key.indexOf(" -> ");
    if (arrow >= 0) {
      const p = join(root, key.slice(0, arrow));
      await mkdir(join(p, ".."), { recursive: true });
      await symlink(key.slice(arrow + 4), p);
    } else if (key.endsWith("/")) {
      await mkdir(join(root, key), { recursive: true });
    } else {
      await mkdir(join(root, key, ".."), { recursive: true });
      await writeFile(join(root, key), value ?? "");
    }
  }
}

export function whiteout(root: string, p: string): void {
  execFileSync("mknod", [join(root, p), "c", "0", "0"]);
}

export function setOpaque(dir: string): void {
  execFileSync("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", dir]);
}
