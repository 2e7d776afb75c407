// What a build reads before it starts anything: the context directory, the Dockerfile,
// the stages the target needs and the target platform. Mistakes here are the caller's, so
// each becomes a typed error (ContextError with a code, BuildOptionError naming the option)
// rather than a syntax error or a plain Error.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { ContextError } from "@tbuild/cache";
import { DockerfileSyntaxError, defaultPlatform, findStageByName, formatPlatform, parsePlatform, planStages, type DockerfileIR, type Platform } from "@tbuild/parser";
import { readFileInRoot } from "../fs/index.js";
import { BuildOptionError } from "./errors.js";

/** The context must be a directory, as `docker build` requires, even with `dockerfileText`. */
export async function checkContext(context: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(context);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "not found" : `is not a readable directory: ${(e as Error).message}`;
    throw new ContextError("ERR_CONTEXT_MISSING", `build context ${context} ${why}`, context, { cause: e });
  }
  if (!st.isDirectory()) throw new ContextError("ERR_CONTEXT_MISSING", `build context ${context} is not a directory`, context);
}

/**
 * Reads the Dockerfile. One inside the context is read like any context file: a symlink is
 * followed inside the context only, never out of it. One the caller named outside the
 * context (`-f ../Dockerfile`) is read as given.
 */
export async function readDockerfile(context: string, file: string): Promise<string> {
  const rel = path.relative(context, file);
  const inside = rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  try {
    return inside ? (await readFileInRoot(context, rel)).toString("utf8") : await fsp.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ContextError("ERR_DOCKERFILE_MISSING", `failed to read the Dockerfile: ${file}: no such file`, file, { cause: e });
    throw new ContextError("ERR_CONTEXT_READ", `failed to read the Dockerfile ${file}: ${(e as Error).message}`, file, { cause: e });
  }
}

/** The stages `target` needs, in build order. A target no stage has is an option error. */
export function planTarget(ir: DockerfileIR, target: string | undefined): number[] {
  try {
    return planStages(ir, target);
  } catch (e) {
    const unknownTarget = target !== undefined && target !== "" && findStageByName(ir.stages, target) === undefined;
    if (unknownTarget && e instanceof DockerfileSyntaxError) throw new BuildOptionError("target", e.reason, { cause: e });
    throw e;
  }
}

/** `BuildOptions.platform` parsed; a malformed one is an option error. */
export function targetPlatform(text: string): Platform {
  try {
    return parsePlatform(text);
  } catch (e) {
    throw new BuildOptionError("platform", (e as Error).message, { cause: e });
  }
}

/**
 * The target platforms: `BuildOptions.platforms`, else `platform` split at commas (as
 * `--platform linux/amd64,linux/arm64`), else the host's; duplicates (after normalising:
 * linux/arm64/v8 is linux/arm64) count once.
 */
export function targetPlatforms(opts: { platform?: string; platforms?: string[] }): Platform[] {
  const texts = opts.platforms?.length ? opts.platforms : (opts.platform ?? "").split(",").map((p) => p.trim()).filter((p) => p);
  if (texts.length === 0) return [defaultPlatform()];
  const seen = new Map<string, Platform>();
  for (const t of texts) {
    const p = targetPlatform(t);
    seen.set(formatPlatform(p), p);
  }
  return [...seen.values()];
}
