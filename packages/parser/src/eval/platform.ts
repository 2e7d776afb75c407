// OCI platforms: parse "linux/arm64", "linux/arm/v7", "arm64"; format; host default.
// Normalisation follows containerd's platforms package (x86_64 → amd64, aarch64 → arm64 …).

/** An OCI platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Thrown for a malformed platform string. */
export class PlatformError extends Error {}

const KNOWN_OS = new Set(["aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"]);
const specifier = /^[A-Za-z0-9_.-]+$/;

function normalizeOs(os: string): string {
  const o = os.toLowerCase();
  return o === "macos" ? "darwin" : o;
}

function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case "i386":
      return ["386", ""];
    case "x86_64":
    case "x86-64":
    case "amd64":
      return ["amd64", v === "v1" ? "" : v];
    case "aarch64":
    case "arm64":
      return ["arm64", v === "8" || v === "v8" || v === "v8.0" ? "" : v];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      if (v === "") return ["arm", "v7"];
      if (v === "5" || v === "6" || v === "7" || v === "8") return ["arm", "v" + v];
      return ["arm", v];
    default:
      return [a, v];
  }
}

function make(os: string, arch: string, variant: string): Platform {
  const [a, v] = normalizeArch(arch, variant);
  const p: Platform = { os: normalizeOs(os), architecture: a };
  if (v !== "") p.variant = v;
  return p;
}

/**
 * Parses and normalises a platform specifier: `os/arch[/variant]`, or a bare
 * OS or architecture (the missing part comes from the host default).
 */
export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  for (const p of parts) {
    if (!specifier.test(p)) throw new PlatformError(`"${s}": invalid platform specifier (expected os/arch[/variant], e.g. linux/amd64)`);
  }
  if (parts.length > 3) throw new PlatformError(`"${s}": cannot parse platform specifier: too many components`);
  if (parts.length === 1) {
    const def = defaultPlatform();
    if (KNOWN_OS.has(normalizeOs(parts[0]))) {
      return normalizeOs(parts[0]) === def.os ? def : make(parts[0], def.architecture, def.variant ?? "");
    }
    return make(def.os, parts[0], "");
  }
  return make(parts[0], parts[1], parts[2] ?? "");
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

const NODE_ARCH: Record<string, [string, string?]> = {
  x64: ["amd64"],
  arm64: ["arm64"],
  arm: ["arm", "v7"],
  ia32: ["386"],
  ppc64: ["ppc64le"],
  s390x: ["s390x"],
  riscv64: ["riscv64"],
  loong64: ["loong64"],
  mips: ["mips"],
  mipsel: ["mipsle"],
};

/** The host platform: linux plus Node's process.arch mapped to OCI names (x64 → amd64 …). */
export function defaultPlatform(): Platform {
  const [architecture, variant] = NODE_ARCH[process.arch] ?? [process.arch];
  const p: Platform = { os: "linux", architecture };
  if (variant) p.variant = variant;
  return p;
}
