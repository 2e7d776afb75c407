// Platforms: parsing "os/arch/variant", the host's platform, and choosing a manifest from
// an index the way containerd's platform matcher does (normalised architecture names,
// arm variants defaulted, for arm64 v8 ≡ no variant, and older variants accepted).
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

const variantNumber = (v: string | undefined, dflt: number) => {
  const n = v === undefined ? dflt : Number(v.replace(/^v/, ""));
  return Number.isInteger(n) ? n : undefined;
};

/**
 * The platforms whose images run as `want`, best first — containerd's `platforms.Only`
 * rules: an arm variant runs the older ones (arm/v7 → v7, v6, v5), arm64 runs arm64 (any
 * variant up to its own; no variant ≡ v8) and then 32-bit arm from v8 down, amd64 runs its
 * older micro-architecture levels and then 386. Everything else matches only itself.
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  const w = normalizePlatform(want);
  const at = (architecture: string, variant?: string): Platform => ({ os: w.os, architecture, ...(variant ? { variant } : {}) });
  const down = (architecture: string, from: number, to: number) => {
    const out: Platform[] = [];
    for (let v = from; v >= to; v--) out.push(at(architecture, `v${v}`));
    return out;
  };
  switch (w.architecture) {
    case "arm": {
      const v = variantNumber(w.variant, 7);
      return v !== undefined && v >= 5 ? down("arm", v, 5) : [w];
    }
    case "arm64": {
      const v = variantNumber(w.variant, 8);
      return v !== undefined && v >= 8 ? [...down("arm64", v, 8), ...down("arm", 8, 5)] : [w];
    }
    case "amd64": {
      const v = variantNumber(w.variant, 1);
      return v !== undefined && v >= 1 ? [...down("amd64", v, 2), at("amd64"), at("386")] : [w, at("386")];
    }
    default:
      return [w];
  }
}

/** Where `have` stands among the platforms that run as `want` (0 = best), or -1 if it does not run. */
export function platformRank(want: Platform, have: Platform): number {
  const h = normalizePlatform(have);
  if (h.os === "unknown") return -1; // BuildKit's attestation manifests
  return compatiblePlatforms(want).findIndex((c) => c.os === h.os && c.architecture === h.architecture && (c.variant ?? "") === (normalizeAmd64(h).variant ?? ""));
}

// amd64's baseline level is written either way ("amd64", "amd64/v1"); compared without it.
function normalizeAmd64(p: Platform): Platform {
  return p.architecture === "amd64" && p.variant === "v1" ? { os: p.os, architecture: p.architecture } : p;
}

/**
 * Picks the manifest for `want` from an index the way containerd does: among the entries
 * whose platform runs as `want` (`compatiblePlatforms`), the best ranked, the first of equals.
 * Attestation manifests (BuildKit's "unknown/unknown" entries) never match. Throws NOT_FOUND
 * listing what the index offers.
 */
export function selectManifest(index: Index, want: Platform, what = "the image index"): Descriptor {
  const w = normalizePlatform(want);
  const chosen = bestForPlatform(index.manifests, w);
  if (chosen) return chosen;
  const offered = index.manifests.filter((d) => d.platform && d.platform.os !== "unknown").map((d) => formatPlatform(d.platform!));
  throw new OciError("NOT_FOUND", `${what} has no manifest for ${formatPlatform(w)}${offered.length ? `; it offers ${offered.join(", ")}` : ""}.`);
}

/** The best-ranked descriptor for `want` (see `selectManifest`), or undefined. */
export function bestForPlatform(manifests: readonly Descriptor[], want: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const d of manifests) {
    if (!d.platform) continue;
    const r = platformRank(want, d.platform);
    if (r >= 0 && r < bestRank) [best, bestRank] = [d, r];
  }
  return best;
}
