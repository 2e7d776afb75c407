// Image names as users type them and as the store keeps them. Docker's rules: a name
// without a registry host is on docker.io, a docker.io name without a namespace is in
// library/, and a name without tag or digest means :latest. `familiar` undoes the
// defaults for display, as `docker images` does.
// TODO(oci): switch to parseReference from @tbuild/oci once it lands, so that the CLI
// and the builder normalise names with one function.

import { UsageError } from "../errors.js";

export interface ImageRef {
  /** Registry host (with port), e.g. docker.io, localhost:5000. */
  domain: string;
  /** Repository path, e.g. library/alpine, team/app. */
  path: string;
  tag?: string;
  digest?: string;
}

const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^sha256:[0-9a-f]{64}$/;

/** Parses and validates a reference; throws a UsageError naming `what` on a bad one. */
export function parseImageRef(text: string, what = "image name"): ImageRef {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: bad digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: bad tag ${JSON.stringify(tag)}`);
  }
  if (rest === "") throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: empty name`);
  let domain = "docker.io";
  let path = rest;
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  if (slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  for (const c of path.split("/")) {
    if (!component.test(c)) {
      const why = c !== c.toLowerCase() ? "repository name must be lowercase" : `invalid path component ${JSON.stringify(c)}`;
      throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: ${why}`);
    }
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical form: `docker.io/library/app:latest`; :latest is added without tag and digest. */
export function canonicalName(ref: ImageRef): string {
  const tag = ref.tag ?? (ref.digest === undefined ? "latest" : undefined);
  return `${ref.domain}/${ref.path}${tag !== undefined ? `:${tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Normalises a user-typed name: `app` → `docker.io/library/app:latest`. */
export function normalizeName(text: string, what?: string): string {
  return canonicalName(parseImageRef(text, what));
}

/** Splits a stored name for display into docker's REPOSITORY and TAG columns. */
export function familiarParts(name: string): { repository: string; tag: string } {
  let rest = name;
  let tag = "<none>";
  const at = rest.indexOf("@");
  if (at !== -1) rest = rest.slice(0, at);
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: familiarRepository(rest), tag };
}

function familiarRepository(repo: string): string {
  if (repo.startsWith("docker.io/library/")) return repo.slice("docker.io/library/".length);
  if (repo.startsWith("docker.io/")) return repo.slice("docker.io/".length);
  return repo;
}
