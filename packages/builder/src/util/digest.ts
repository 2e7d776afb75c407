import { createHash } from "node:crypto";
import type { Digest } from "@tbuild/oci";

/** sha256 of a canonical JSON rendering (object keys sorted), as a Digest. */
export function digestJSON(value: unknown): Digest {
  return `sha256:${createHash("sha256").update(canonicalJSON(value)).digest("hex")}`;
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof v === "bigint"
        ? v.toString()
        : v,
  );
}
