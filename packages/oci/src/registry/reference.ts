// Image references, normalised the way Docker does: "busybox" is
// docker.io/library/busybox:latest, "index.docker.io" is docker.io, a first component with a
// "." or ":" (or "localhost") is a registry host.
import { isDigest } from "../digest.js";
import { OciError } from "../errors.js";
import type { Digest } from "../types.js";

/** The registry name of Docker Hub in normalised references. */
export const DOCKER_HUB = "docker.io";
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

/** A parsed, normalised image reference. */
export class ImageReference {
  constructor(
    /** Registry host[:port], e.g. "docker.io", "ghcr.io", "127.0.0.1:5000". */
    readonly registry: string,
    /** Repository path, e.g. "library/busybox". */
    readonly repository: string,
    /** Tag; "latest" when neither tag nor digest was given. */
    readonly tag: string | undefined,
    readonly digest: Digest | undefined,
  ) {}

  /** registry/repository, e.g. "docker.io/library/busybox". */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** What a registry request addresses: the digest if there is one, else the tag. */
  get reference(): string {
    return this.digest ?? this.tag ?? "latest";
  }

  /** The short form Docker prints: "busybox:latest", "user/app:1", "ghcr.io/o/app:1". */
  get familiar(): string {
    let name = this.name;
    if (this.registry === DOCKER_HUB) {
      name = this.repository.startsWith("library/") && this.repository.split("/").length === 2 ? this.repository.slice(8) : this.repository;
    }
    return `${name}${this.tag !== undefined ? `:${this.tag}` : ""}${this.digest ? `@${this.digest}` : ""}`;
  }

  /** The same repository with another tag or digest. */
  with(change: { tag?: string; digest?: Digest }): ImageReference {
    return new ImageReference(this.registry, this.repository, change.tag, change.digest);
  }

  /** Fully qualified: "docker.io/library/busybox:latest[@sha256:…]". */
  toString(): string {
    return `${this.name}${this.tag !== undefined ? `:${this.tag}` : ""}${this.digest ? `@${this.digest}` : ""}`;
  }
}

function invalid(ref: string, why: string): OciError {
  return new OciError("INVALID_REFERENCE", `invalid reference format ${JSON.stringify(ref)}: ${why}.`);
}

/**
 * Parses an image reference like Docker: `parseReference("busybox")` is
 * docker.io/library/busybox:latest. Throws INVALID_REFERENCE with the reason (uppercase
 * repository, bad tag, bad digest …).
 */
export function parseReference(input: string, opts: { defaultTag?: string } = {}): ImageReference {
  const ref = input.trim();
  if (ref === "") throw invalid(input, "it is empty");
  if (ref.length > 255 + 1 + 128 + 1 + 71) throw invalid(input, "it is too long");
  let rest = ref;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid(input, `${JSON.stringify(d)} is not a valid sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `tag ${JSON.stringify(tag)} is not valid (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(registry)) throw invalid(input, `${JSON.stringify(registry)} is not a valid registry host`);
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (repository === "") throw invalid(input, "the repository name is empty");
  if (repository !== repository.toLowerCase()) throw invalid(input, "repository name must be lowercase");
  for (const c of repository.split("/")) {
    if (!PATH_COMPONENT.test(c)) throw invalid(input, `repository path component ${JSON.stringify(c)} is not valid`);
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > 255) throw invalid(input, "the repository name is longer than 255 characters");
  if (tag === undefined && digest === undefined) tag = opts.defaultTag ?? "latest";
  return new ImageReference(registry, repository, tag, digest);
}

/** True if `input` parses as an image reference. */
export function isReference(input: string): boolean {
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}
