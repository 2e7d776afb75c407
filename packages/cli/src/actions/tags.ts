// Tags of a build: validated and normalised like docker (`app` → docker.io/library/app:latest).

import { normalizeName } from "../images/image-ref.js";

/** Validates `--tag` values (a bad one is a usage error) and returns their canonical forms. */
export function canonicalTags(tags: readonly string[]): string[] {
  return tags.map((t) => normalizeName(t, "tag"));
}
