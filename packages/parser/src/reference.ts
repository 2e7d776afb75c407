// Syntax check for image references (the distribution/reference grammar that
// BuildKit applies to FROM and to COPY --from names that are not stages).

const alnum = "[a-z0-9]+";
const separator = "(?:[_.]|__|[-]+)";
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}";
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${name})(?::(${tag}))?(?:@(${digest}))?$`);
const anchoredId = /^[a-f0-9]{64}$/;

const digestLengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Returns why `ref` is not a valid image reference (like `alpine:3.20`,
 * `ghcr.io/o/r@sha256:…`), or undefined when it is valid.
 */
export function imageReferenceError(ref: string): string | undefined {
  if (ref === "") return "invalid reference format: repository name must have at least one component";
  if (anchoredId.test(ref)) return "invalid repository name (64-byte hexadecimal strings), cannot specify 64-byte hexadecimal strings";
  const m = referenceRe.exec(ref);
  if (!m) {
    if (referenceRe.test(ref.toLowerCase())) return "invalid reference format: repository name must be lowercase";
    return "invalid reference format";
  }
  if (m[1].length > 255) return "invalid reference format: repository name must not be more than 255 characters";
  if (m[3] !== undefined) {
    const [alg, hex] = m[3].split(":");
    const want = digestLengths[alg];
    if (want === undefined) return `unsupported digest algorithm: ${m[3]}`;
    if (hex.length !== want || /[A-F]/.test(hex)) return `invalid checksum digest format: ${m[3]}`;
  }
  return undefined;
}
