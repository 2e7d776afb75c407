// Test support shared by @tbuild/oci's unit and end-to-end tests. Not part of the public API.
import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { digestHex, sha256 } from "../digest.js";
import { OciError } from "../errors.js";
import type { BlobSource } from "../layout/blob-source.js";
import type { Digest } from "../types.js";

/**
 * True if every tool is on PATH. Outside CI a missing tool makes the caller skip (with the
 * reason printed); in CI (CI=true) it is an error, since CI installs them all.
 */
export function haveTools(tools: string[]): boolean {
  const missing = tools.filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  if (process.env.CI === "true") throw new Error(`required tools missing in CI: ${missing.join(", ")}`);
  console.warn(`skipping: ${missing.join(", ")} not installed`);
  return false;
}

/** A minimal content-addressed blob directory for tests, with a BlobSource over it. */
export function dirBlobStore(dir: string) {
  mkdirSync(dir, { recursive: true });
  const path = (d: Digest): string => join(dir, digestHex(d));
  const source: BlobSource = {
    async open(d) {
      if (!existsSync(path(d))) throw new OciError("NOT_FOUND", `no blob ${d}`);
      return createReadStream(path(d));
    },
    async size(d) {
      if (!existsSync(path(d))) throw new OciError("NOT_FOUND", `no blob ${d}`);
      return statSync(path(d)).size;
    },
  };
  return {
    source,
    path,
    /** Stores bytes; returns their digest and size. */
    put(bytes: Buffer): { digest: Digest; size: number } {
      const digest = sha256(bytes);
      writeFileSync(path(digest), bytes);
      return { digest, size: bytes.length };
    },
    /** Moves a finished file into the store under its (already known) digest. */
    adopt(file: string, digest: Digest): void {
      renameSync(file, path(digest));
    },
  };
}
