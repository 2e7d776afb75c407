// `--platform os/arch[/variant]`.

import { UsageError } from "../errors.js";

const archAliases: Record<string, string> = { x86_64: "amd64", aarch64: "arm64", armhf: "arm", i386: "386" };

/** Validates and normalises one platform string (`linux/x86_64` → `linux/amd64`). */
export function parsePlatform(text: string): string {
  const s = text.trim().toLowerCase();
  if (s.includes(",")) throw new UsageError(`--platform: building several platforms at once is not supported (got ${JSON.stringify(text)})`);
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new UsageError(`--platform: ${JSON.stringify(text)} is not of the form os/arch[/variant] (e.g. linux/amd64)`);
  }
  parts[1] = archAliases[parts[1]!] ?? parts[1]!;
  return parts.join("/");
}
