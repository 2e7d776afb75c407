// Expansion of a stage's FROM line (image and --platform) with the global ARGs.

import type { EscapeToken } from "../ast.js";
import type { ArgInstruction, Stage } from "../ir/types.js";
import { imageReferenceError } from "../reference.js";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";
import { instructionError } from "./eval-error.js";
import { evaluateGlobalArgs, type BuildPlatforms } from "./global-args.js";
import { formatPlatform, parsePlatform, PlatformError } from "./platform.js";

const stageNameRe = /^[a-z][a-z0-9\-_.]*$/;

/** Options for resolveStageBase. */
export interface ResolveBaseOptions {
  escapeToken?: EscapeToken;
  targetStage?: string;
  file?: string;
}

/**
 * Expands the base image and `--platform` of a stage with the global scope
 * only (automatic platform ARGs and the ARGs before the first FROM, with
 * --build-arg values). Returns the base (an image reference, a stage name or
 * `scratch`), the normalised platform if one was given, and the ARG values
 * read. Throws DockerfileSyntaxError for a blank or invalid result.
 */
export function resolveStageBase(
  stage: Stage,
  globalArgs: readonly ArgInstruction[],
  buildArgs: ReadonlyMap<string, string>,
  platforms: BuildPlatforms,
  opts: ResolveBaseOptions = {},
): { base: string; platform?: string; usedArgs: Record<string, string> } {
  const escape = opts.escapeToken ?? "\\";
  const file = opts.file ?? "Dockerfile";
  const scope = evaluateGlobalArgs(globalArgs, buildArgs, platforms, escape, { targetStage: opts.targetStage, file });
  const lex = new ShellLex(escape);
  const usedArgs: Record<string, string> = {};
  const expand = (word: string): string => {
    try {
      const r = lex.processWord(word, scope.env);
      for (const n of r.used) usedArgs[n] = scope.env.get(n) as string;
      return r.result;
    } catch (e) {
      if (e instanceof ShellExpansionError) throw instructionError(stage, e.message, file);
      throw e;
    }
  };
  const base = expand(stage.base);
  if (base === "") throw instructionError(stage, `base name (${stage.base}) should not be blank`, file);
  if (base !== stage.base && base !== "scratch" && !stageNameRe.test(base)) {
    const why = imageReferenceError(base);
    if (why) throw instructionError(stage, `invalid base image "${base}" (from ${stage.base}): ${why}`, file);
  }
  const out: { base: string; platform?: string; usedArgs: Record<string, string> } = { base, usedArgs };
  if (stage.platform !== undefined) {
    const p = expand(stage.platform);
    if (p === "") throw instructionError(stage, `empty platform value from expression ${stage.platform}`, file);
    try {
      out.platform = formatPlatform(parsePlatform(p));
    } catch (e) {
      if (e instanceof PlatformError) throw instructionError(stage, `failed to parse platform ${stage.platform}: ${e.message}`, file);
      throw e;
    }
  }
  return out;
}
