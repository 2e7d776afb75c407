// Platforms: parsing "os/arch/variant", the host's platform, and choosing a manifest from
// an index the way containerd's platform matcher does (normalised architecture names,
// arm variants defaulted, and for arm64 v8 ≡ no variant).
import { OciError } from "../errors.js";
import type { Descriptor, Index, Platform } from "../types.js";

const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64", "x86-64": "amd64", x64: "amd64", aarch64: "arm64", armhf: "arm", armel: "arm", i386: "386", ia32: "386",
};

/** Normalises a platform: architecture aliases, default arm variants (arm → v7, arm64 → v8). */
export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (architecture === "arm64" && (variant === undefined || variant === "8")) variant = "v8";
  if (architecture === "arm" && (variant === undefined || variant === "7")) variant = "v7";
  if (architecture === "arm" && (variant === "5" || variant === "6")) variant = `v${variant}`;
  if (p.architecture.toLowerCase() === "armel") variant = "v6";
  const out: Platform = { os: p.os.toLowerCase(), architecture };
  if (variant !== undefined && variant !== "") out.variant = variant;
  if (p["os.version"]) out["os.version"] = p["os.version"];
  return out;
}

/** Parses "linux/amd64", "linux/arm64/v8", "linux/arm/v7"; the os defaults to linux. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split("/");
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new OciError("INVALID_FORMAT", `platform ${JSON.stringify(s)} is not valid; expected os/arch or os/arch/variant, e.g. linux/arm64.`);
  }
  if (parts.length === 1) return normalizePlatform({ os: "linux", architecture: parts[0]! });
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) });
}

/** "os/arch[/variant]" of a platform, with arm64's default v8 left out as Docker prints it. */
export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  const showVariant = n.variant && !(n.architecture === "arm64" && n.variant === "v8");
  return `${n.os}/${n.architecture}${showVariant ? `/${n.variant}` : ""}`;
}

/** The platform of the running host. */
export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64" };
  const architecture = archMap[process.arch] ?? process.arch;
  return normalizePlatform({ os: process.platform === "win32" ? "windows" : process.platform, architecture });
}

/** True if an image for `have` runs as `want` (both normalised; a missing variant on `have` is accepted). */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || h.variant === undefined || w.variant === h.variant;
}

/**
 * Picks the manifest for `want` from an index: the first entry whose platform matches exactly
 * (variant included), else the first compatible one. Attestation manifests (BuildKit's
 * "unknown/unknown" entries) never match. Throws NOT_FOUND listing what the index offers.
 */
export function selectManifest(index: Index, want: Platform, what = "the image index"): Descriptor {
  const w = normalizePlatform(want);
  const candidates = index.manifests.filter((d) => d.platform && d.platform.os !== "unknown" && platformMatches(w, d.platform));
  const exact = candidates.find((d) => normalizePlatform(d.platform!).variant === w.variant);
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const offered = index.manifests.filter((d) => d.platform && d.platform.os !== "unknown").map((d) => formatPlatform(d.platform!));
  throw new OciError("NOT_FOUND", `${what} has no manifest for ${formatPlatform(w)}${offered.length ? `; it offers ${offered.join(", ")}` : ""}.`);
}
