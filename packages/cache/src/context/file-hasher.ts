// Hashing one context file. Small files are read synchronously into a shared buffer
// (several times faster than the promise API for the typical many-small-files
// context); big files are streamed asynchronously so the event loop keeps moving.
// The file is opened with O_NOFOLLOW (a symlink swapped in after the walk is never
// followed out of the context) and its stat is taken from the open descriptor before
// and after reading, so a file that changes while we read it is detected.
import { createHash } from "node:crypto";
import { closeSync, constants as C, fstatSync, openSync, promises as fsp, readSync, type BigIntStats } from "node:fs";
import { ContextError } from "../errors.js";

/** Files up to this size are read synchronously. */
const SYNC_LIMIT = 4 << 20;
const CHUNK = 1 << 20;
const shared = Buffer.allocUnsafe(CHUNK);

/** The stat fingerprint the stat cache keys on, from its parts (times in ns, as decimal). */
export function fingerprintFrom(dev: number | bigint, ino: number | bigint, size: number | bigint, mtimeNs: string | bigint, ctimeNs: string | bigint): string {
  return `${dev}:${ino}:${size}:${mtimeNs}:${ctimeNs}`;
}

/** The stat fingerprint of a bigint stat. */
export function fingerprintOf(st: BigIntStats): string {
  return fingerprintFrom(st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs);
}

/**
 * Whether a hash taken when reading began at `readStartNs` can be trusted for this
 * fingerprint later: the file's ctime must be older than the read by more than the
 * timestamp granularity (a kernel tick on most filesystems; a whole second where
 * timestamps have no sub-second part).
 */
export function isTrustworthy(st: BigIntStats, readStartNs: bigint): boolean {
  const coarse = st.ctimeNs % 1_000_000_000n === 0n;
  const margin = coarse ? 2_000_000_000n : 50_000_000n;
  return st.ctimeNs + margin < readStartNs;
}

export interface HashedFile {
  /** sha256 of the content, hex. */
  hash: string;
  /** Stat of the file as read. */
  stat: BigIntStats;
  /** Whether the (fingerprint → hash) pair may be cached. */
  trusted: boolean;
}

function changedError(abs: string): ContextError {
  return new ContextError("ERR_CONTEXT_CHANGED", `${abs} kept changing while it was being read; the build context must not be modified during a build`, abs);
}

async function hashOpen(fd: number, size: number): Promise<string> {
  const h = createHash("sha256");
  if (size <= SYNC_LIMIT) {
    for (;;) {
      const n = readSync(fd, shared, 0, CHUNK, null);
      if (n === 0) break;
      h.update(shared.subarray(0, n));
    }
    return h.digest("hex");
  }
  // A second, asynchronous descriptor of the same open file (via /proc); without /proc,
  // read through ours synchronously in chunks, yielding between them.
  const fh = await fsp.open(`/proc/self/fd/${fd}`, "r").catch(() => undefined);
  if (!fh) {
    for (;;) {
      const n = readSync(fd, shared, 0, CHUNK, null);
      if (n === 0) break;
      h.update(shared.subarray(0, n));
      await new Promise((r) => setImmediate(r));
    }
    return h.digest("hex");
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}

/**
 * Fast path when the walk's stat is known: read, then one fstat; if the file still has
 * the walk's fingerprint, what we read is what the walk saw (any write in between
 * would have moved ctime). Undefined when anything differs or fails — the careful
 * path then decides.
 */
async function hashAsWalked(abs: string, expected: { fingerprint: string; size: number }): Promise<HashedFile | undefined> {
  const readStartNs = BigInt(Date.now()) * 1_000_000n;
  let fd: number;
  try {
    fd = openSync(abs, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const hash = await hashOpen(fd, expected.size);
    const after = fstatSync(fd, { bigint: true });
    if (!after.isFile() || fingerprintOf(after) !== expected.fingerprint) return undefined;
    return { hash, stat: after, trusted: isTrustworthy(after, readStartNs) };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes a regular file of the context; retries if it changes during the read.
 * `expected` (the walk's fingerprint and size) saves a stat call per file.
 */
export async function hashFile(abs: string, expected?: { fingerprint: string; size: number }): Promise<HashedFile> {
  if (expected) {
    const quick = await hashAsWalked(abs, expected);
    if (quick) return quick;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const readStartNs = BigInt(Date.now()) * 1_000_000n;
    let fd: number;
    try {
      fd = openSync(abs, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw new ContextError("ERR_CONTEXT_CHANGED", `${abs} became a symlink during the build`, abs);
      throw new ContextError(code === "ENOENT" ? "ERR_CONTEXT_CHANGED" : "ERR_CONTEXT_READ", `cannot read ${abs}: ${(e as Error).message}`, abs, { cause: e });
    }
    try {
      const before = fstatSync(fd, { bigint: true });
      if (!before.isFile()) throw new ContextError("ERR_CONTEXT_CHANGED", `${abs} is no longer a regular file`, abs);
      const hash = await hashOpen(fd, Number(before.size));
      const after = fstatSync(fd, { bigint: true });
      if (fingerprintOf(before) === fingerprintOf(after)) {
        return { hash, stat: after, trusted: isTrustworthy(after, readStartNs) };
      }
    } catch (e) {
      if (e instanceof ContextError) throw e;
      throw new ContextError("ERR_CONTEXT_READ", `cannot read ${abs}: ${(e as Error).message}`, abs, { cause: e });
    } finally {
      closeSync(fd);
    }
  }
  throw changedError(abs);
}
