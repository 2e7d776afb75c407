// Deterministic directory walk: depth-first, each directory's names in byte order of their
// UTF-8 encoding, a directory before its contents (the order Go's filepath.Walk, and so
// containerd's layer writer, produces). Does not follow symlinks.
import { lstat, readdir, readlink } from "node:fs";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { OciError } from "../errors.js";

const lstatP = promisify(lstat);
const readdirP = promisify(readdir);
const readlinkP = promisify(readlink);

export interface WalkEntry {
  /** Path relative to the walked root, "/"-separated, never empty. */
  path: string;
  abs: string;
  stat: Stats;
  /** The target of a symlink. */
  linkTarget?: string;
}

/** Byte-order comparison of two names as UTF-8 (JS string order differs above U+FFFF). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sortNames(names: string[]): string[] {
  // Plain code-unit order equals UTF-8 byte order unless a name has characters above U+D7FF.
  if (names.every((n) => !/[\ud800-\uffff]/.test(n))) return names.sort();
  return names.sort(compareNames);
}

/** readdir decodes non-UTF-8 names lossily; a layer entry with such a name would name another file. */
async function refuseNonUtf8(absDir: string): Promise<void> {
  for (const raw of await readdirP(absDir, { encoding: "buffer" })) {
    if (!Buffer.from(raw.toString("utf8")).equals(raw)) {
      throw new OciError("UNSUPPORTED", `cannot add ${JSON.stringify(join(absDir, raw.toString("utf8")))} to a layer: its name is not valid UTF-8.`);
    }
  }
}

async function* walkDir(absDir: string, relDir: string): AsyncGenerator<WalkEntry> {
  const names = sortNames(await readdirP(absDir));
  if (names.some((n) => n.includes("\ufffd"))) await refuseNonUtf8(absDir);
  const entries = await Promise.all(
    names.map(async (name): Promise<WalkEntry> => {
      const abs = join(absDir, name);
      const stat = await lstatP(abs);
      const e: WalkEntry = { path: relDir === "" ? name : `${relDir}/${name}`, abs, stat };
      if (stat.isSymbolicLink()) e.linkTarget = await readlinkP(abs);
      return e;
    }),
  );
  for (const e of entries) {
    yield e;
    if (e.stat.isDirectory()) yield* walkDir(e.abs, e.path);
  }
}

/** Walks everything below `root` (not `root` itself) in deterministic order. */
export async function* walkTree(root: string): AsyncGenerator<WalkEntry> {
  let st: Stats;
  try {
    st = await lstatP(root);
  } catch (err) {
    throw new OciError("NOT_FOUND", `layer source directory ${root} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isDirectory()) throw new OciError("INVALID_FORMAT", `layer source ${root} is not a directory.`);
  yield* walkDir(root, "");
}
