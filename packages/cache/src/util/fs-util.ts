// Small filesystem helpers shared by the store and the context hasher: atomic file
// replacement, directory fsync, robust recursive removal.
import { randomBytes } from "node:crypto";
import { promises as fsp, constants as C } from "node:fs";
import path from "node:path";
import { ownerTag } from "./process-info.js";

/**
 * A unique temp-file name that says who created it: `<pid>.<start>.<random>.<kind>`.
 * Leftovers of dead processes are recognised (and removed) by their owner tag.
 */
export function tempName(kind: string): string {
  return `${ownerTag()}.${randomBytes(6).toString("hex")}.${kind}`;
}

/** fsync a directory so that a rename or create inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, C.O_RDONLY | C.O_DIRECTORY);
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
    if (!["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EISDIR", "EBADF"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    await fh?.close();
  }
}

export interface AtomicWriteOptions {
  /** Directory for the temp file; must be on the same filesystem as `file`. Default: next to it. */
  tmpDir?: string;
  /** fsync the file before the rename and the directory after it. */
  durable?: boolean;
  mode?: number;
}

/**
 * Writes `file` so that readers see either the old or the new content, never a mix:
 * write a temp file, optionally fsync, rename over the target.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(opts.tmpDir ?? dir, opts.tmpDir ? tempName("w") : `.${path.basename(file)}.${tempName("tmp")}`);
  const fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL, opts.mode ?? 0o644);
  try {
    try {
      await fh.writeFile(data);
      if (opts.durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (opts.durable) await fsyncDir(dir);
}

/** Reads and parses a JSON file; undefined when it does not exist or is not valid JSON. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * Removes a file or directory tree. Snapshot trees may hold directories without write
 * permission (a layer can ship `chmod 0555 /usr`), which a non-root process cannot empty,
 * so on EACCES/EPERM the tree is made writable and the removal retried.
 */
export async function removeTree(target: string): Promise<void> {
  try {
    await fsp.rm(target, { recursive: true, force: true, maxRetries: 2 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM" && code !== "ENOTEMPTY") throw e;
    await makeWritable(target);
    await fsp.rm(target, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeWritable(dir: string): Promise<void> {
  let st;
  try {
    st = await fsp.lstat(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  await fsp.chmod(dir, 0o700).catch(() => undefined);
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const n of names) await makeWritable(path.join(dir, n));
}

/** True when `p` exists (without following a final symlink). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return false;
    throw e;
  }
}

/** Returns `code` of a Node system error, or undefined. */
export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
