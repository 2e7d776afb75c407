// Digest helpers. Digests name files in the store, so they are validated strictly
// (a crafted "sha256:../../x" must never become a path).
import { createHash } from "node:crypto";
import type { Digest } from "@tbuild/oci";
import { CacheError } from "../errors.js";

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** True when `s` is a canonical `sha256:<64 lower-case hex>` digest. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === "string" && DIGEST_RE.test(s);
}

/** Returns the hex part of a digest, throwing a clear error for anything malformed. */
export function digestHex(d: string): string {
  if (!isDigest(d)) throw new CacheError("ERR_BAD_DIGEST", `not a valid sha256 digest: ${JSON.stringify(d)}`);
  return d.slice(7);
}

/** The sha256 digest of a string or bytes. */
export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Hex sha256 of a string (used to turn arbitrary keys and names into file names). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Chain IDs of a layer stack, as the OCI image spec defines them: the first equals the
 * first diffID, each next one is sha256("<previous chain ID> <diffID>"). Snapshots are
 * stored under these IDs because a snapshot depends on every layer below it.
 */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) {
    digestHex(d);
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256Digest(`${prev} ${d}`));
  }
  return out;
}
