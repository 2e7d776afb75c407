// Test helper: scratch directories on /dev/shm (fast, and the disk stays clean).
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** A fresh scratch directory; call the returned cleanup in afterEach/afterAll. */
export function scratchDir(prefix = "tbuild-cache-"): { dir: string; cleanup: () => void } {
  const base = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const dir = mkdtempSync(path.join(base, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
