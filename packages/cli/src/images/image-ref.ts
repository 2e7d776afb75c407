// Image names as users type them and as the store keeps them, through @tbuild/oci's
// parseReference (the builder names store entries with the same function): `app`
// is docker.io/library/app:latest. `familiarParts` undoes the defaults for display,
// as `docker images` does.

import { type ImageReference, parseReference } from "@tbuild/oci";
import { UsageError } from "../errors.js";

/** Parses a reference; a bad one is a UsageError naming `what` ("image name", "target name" …). */
export function parseImageRef(text: string, what = "image name"): ImageReference {
  try {
    return parseReference(text);
  } catch (err) {
    const why = (err as Error).message.replace(/^invalid reference format "(?:[^"\\]|\\.)*":\s*/, "").replace(/\.$/, "");
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: ${why}`);
  }
}

/** Normalises a user-typed name: `app` → `docker.io/library/app:latest`. */
export function normalizeName(text: string, what?: string): string {
  return parseImageRef(text, what).toString();
}

/** Splits a stored name for display into docker's REPOSITORY and TAG columns. */
export function familiarParts(name: string): { repository: string; tag: string } {
  try {
    const ref = parseReference(name);
    return { repository: ref.with({}).familiar, tag: ref.tag ?? "<none>" };
  } catch {
    return { repository: name, tag: "<none>" };
  }
}

/** The short form docker prints for a stored name: `app:1.0`, `ghcr.io/o/app:1`. */
export function familiarName(name: string): string {
  const { repository, tag } = familiarParts(name);
  return tag === "<none>" ? repository : `${repository}:${tag}`;
}
