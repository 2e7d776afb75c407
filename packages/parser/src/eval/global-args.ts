// The global (pre-FROM) argument scope: BuildKit's automatic platform ARGs,
// then the ARGs declared before the first FROM, with --build-arg overrides.

import type { EscapeToken } from "../ast.js";
import type { ArgInstruction } from "../ir/types.js";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";
import { expansionError } from "./eval-error.js";
import { formatPlatform, type Platform } from "./platform.js";

/** Build and target platforms of a build. */
export interface BuildPlatforms {
  target: Platform;
  build: Platform;
}

/** Proxy variables every build accepts without an ARG (kept out of history and cache keys). */
export const PROXY_ARGS = [
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
] as const;

/** Platform ARGs defined automatically in the global scope. */
export const PLATFORM_ARGS = [
  "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
  "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
] as const;

/** BuildKit's built-in build arguments that configure the build itself. */
export const BUILTIN_ARGS = [
  "BUILDKIT_BUILD_NAME", "BUILDKIT_CACHE_MOUNT_NS", "BUILDKIT_CONTEXT_KEEP_GIT_DIR", "BUILDKIT_INLINE_CACHE",
  "BUILDKIT_MULTI_PLATFORM", "BUILDKIT_SANDBOX_HOSTNAME", "BUILDKIT_SYNTAX", "SOURCE_DATE_EPOCH",
] as const;

/** The automatic platform ARGs (a --build-arg of the same name overrides one). */
export function platformArgs(p: BuildPlatforms, buildArgs: ReadonlyMap<string, string>, targetStage?: string): Map<string, string> {
  const values: Array<[string, string]> = [
    ["BUILDPLATFORM", formatPlatform(p.build)],
    ["BUILDOS", p.build.os],
    ["BUILDOSVERSION", ""],
    ["BUILDARCH", p.build.architecture],
    ["BUILDVARIANT", p.build.variant ?? ""],
    ["TARGETPLATFORM", formatPlatform(p.target)],
    ["TARGETOS", p.target.os],
    ["TARGETOSVERSION", ""],
    ["TARGETARCH", p.target.architecture],
    ["TARGETVARIANT", p.target.variant ?? ""],
    ["TARGETSTAGE", targetStage || "default"],
  ];
  const env = new Map<string, string>();
  for (const [k, v] of values) env.set(k, buildArgs.get(k) ?? v);
  return env;
}

/** The global scope after the pre-FROM ARGs, and which names each ARG's value read. */
export interface GlobalScope {
  env: Map<string, string>;
  /** Names declared by global ARG instructions. */
  declared: Set<string>;
}

/**
 * Evaluates the ARGs before the first FROM in order: a --build-arg value wins,
 * else the default is expanded with the scope so far; an ARG without either
 * stays undefined. Throws DockerfileSyntaxError for a failing expansion.
 */
export function evaluateGlobalArgs(
  globalArgs: readonly ArgInstruction[],
  buildArgs: ReadonlyMap<string, string>,
  platforms: BuildPlatforms,
  escapeToken: EscapeToken,
  opts: { targetStage?: string; file?: string } = {},
): GlobalScope {
  const env = platformArgs(platforms, buildArgs, opts.targetStage);
  const declared = new Set<string>();
  const lex = new ShellLex(escapeToken);
  for (const inst of globalArgs) {
    for (const a of inst.args) {
      declared.add(a.name);
      const given = buildArgs.get(a.name);
      let value: string | undefined = given;
      if (value === undefined && a.default !== undefined) {
        try {
          value = lex.processWord(a.default, env).result;
        } catch (e) {
          if (e instanceof ShellExpansionError) throw expansionError(inst, e, opts.file, escapeToken);
          throw e;
        }
      }
      if (value !== undefined) {
        // Re-assignment moves the name to the end, like BuildKit's env list.
        env.delete(a.name);
        env.set(a.name, value);
      }
    }
  }
  return { env, declared };
}

/**
 * The SOURCE_DATE_EPOCH of a build as BuildKit finds it: the --build-arg, else
 * a non-empty value of a global ARG (e.g. `ARG SOURCE_DATE_EPOCH=1700000000`).
 */
export function sourceDateEpoch(
  globalArgs: readonly ArgInstruction[],
  buildArgs: ReadonlyMap<string, string>,
  platforms: BuildPlatforms,
  escapeToken: EscapeToken,
): string | undefined {
  const given = buildArgs.get("SOURCE_DATE_EPOCH");
  if (given !== undefined) return given;
  const v = evaluateGlobalArgs(globalArgs, buildArgs, platforms, escapeToken).env.get("SOURCE_DATE_EPOCH");
  return v === "" ? undefined : v;
}
