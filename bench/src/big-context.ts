// The `bigcontext` / `incremental` build context of make-workloads.sh, byte for byte:
// 19,990 small files (every other one compressible text, the rest random bytes from
// random.Random(20260101)) in src/d000…d199, then big/blob00…09 of 10 MiB each (blob00
// text, the others random), every entry's atime and mtime set to 1700000000.

import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PythonRandom } from "./mt19937.js";

export const CONTEXT_SEED = 20260101;
export const CONTEXT_MTIME = 1700000000;
export const SMALL_SIZES = [200, 1000, 3000, 5000, 8000, 13000] as const;
export const WORDS = Buffer.from("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n");
export const BIG_FILE_SIZE = 10 * 1024 * 1024;
export const DIRS = 200;
export const FILES_PER_DIR = 100;
/** The last directory holds only 90 files: 19,990 small files in all. */
export const LAST_DIR_FILES = 90;
export const BIG_FILES = 10;

const repeated = Buffer.alloc(BIG_FILE_SIZE + WORDS.length);
for (let p = 0; p < repeated.length; p += WORDS.length) WORDS.copy(repeated, p);

/** Python's `(words * k)[:len]`. */
function textPrefix(len: number): Buffer {
  return repeated.subarray(0, len);
}

/** Content of small text file number n (n even) of size sz: repeated words, then "%08d" % n. */
export function smallTextFile(n: number, sz: number): Buffer {
  return Buffer.concat([textPrefix(sz - 8), Buffer.from(String(n).padStart(8, "0"))]);
}

/** Relative path (under ctx/) and content size of small file n. */
export function smallFileName(n: number): { rel: string; size: number; text: boolean } {
  const d = Math.floor(n / FILES_PER_DIR);
  const size = SMALL_SIZES[n % SMALL_SIZES.length]!;
  const text = n % 2 === 0;
  const name = `f${String(n).padStart(5, "0")}.${text ? "txt" : "bin"}`;
  return { rel: path.join("src", `d${String(d).padStart(3, "0")}`, name), size, text };
}

/** Writes the context into `root` (which must be empty or absent); returns the file count. */
export function generateBigContext(root: string): number {
  const rnd = new PythonRandom(CONTEXT_SEED);
  const dirs: string[] = [root, path.join(root, "src")];
  let n = 0;
  for (let d = 0; d < DIRS; d++) {
    const dp = path.join(root, "src", `d${String(d).padStart(3, "0")}`);
    mkdirSync(dp, { recursive: true });
    dirs.push(dp);
    const files = d === DIRS - 1 ? LAST_DIR_FILES : FILES_PER_DIR;
    for (let f = 0; f < files; f++) {
      const { rel, size, text } = smallFileName(n);
      const file = path.join(root, rel);
      writeFileSync(file, text ? smallTextFile(n, size) : rnd.randbytes(size));
      utimesSync(file, CONTEXT_MTIME, CONTEXT_MTIME);
      n++;
    }
  }
  const bp = path.join(root, "big");
  mkdirSync(bp, { recursive: true });
  dirs.push(bp);
  for (let i = 0; i < BIG_FILES; i++) {
    const file = path.join(bp, `blob${String(i).padStart(2, "0")}.bin`);
    writeFileSync(file, i === 0 ? textPrefix(BIG_FILE_SIZE) : rnd.randbytes(BIG_FILE_SIZE));
    utimesSync(file, CONTEXT_MTIME, CONTEXT_MTIME);
    n++;
  }
  // Directories last: creating their children changed their times.
  for (const d of dirs) utimesSync(d, CONTEXT_MTIME, CONTEXT_MTIME);
  return n;
}
