// `--platform os/arch[/variant]`, or several separated by commas (a multi-platform build).

import { UsageError } from "../errors.js";

const archAliases: Record<string, string> = { x86_64: "amd64", aarch64: "arm64", armhf: "arm", i386: "386" };

/** Validates and normalises one platform string (`linux/x86_64` → `linux/amd64`). */
export function parsePlatform(text: string): string {
  const s = text.trim().toLowerCase();
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new UsageError(`--platform: ${JSON.stringify(text)} is not of the form os/arch[/variant] (e.g. linux/amd64)`);
  }
  parts[1] = archAliases[parts[1]!] ?? parts[1]!;
  return parts.join("/");
}

/** `linux/amd64,linux/arm64`: each validated and normalised, duplicates dropped, joined again. */
export function parsePlatforms(text: string): string {
  const list = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (list.length === 0) throw new UsageError(`--platform: ${JSON.stringify(text)} names no platform (e.g. linux/amd64,linux/arm64)`);
  return [...new Set(list.map(parsePlatform))].join(",");
}
