// Reading .dockerignore files the way BuildKit does (moby/patternmatcher/ignorefile):
// a BOM on the first line is dropped; lines starting with "#" in column 0 are
// comments; each line is trimmed, cleaned with filepath.Clean, and a leading "/" is
// removed (patterns are relative to the context root), keeping a "!" prefix.
import { promises as fsp } from "node:fs";
import path from "node:path";
import { ContextError } from "../errors.js";
import { goClean, goTrimSpace } from "./go-path.js";

/** Parses the text of an ignore file into patterns. */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((rawLine, i) => {
    let line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine; // bufio.ScanLines drops one CR
    if (i === 0 && line.startsWith("\uFEFF")) line = line.slice(1);
    if (line.startsWith("#")) return;
    let p = goTrimSpace(line);
    if (p === "") return;
    const invert = p[0] === "!";
    if (invert) p = goTrimSpace(p.slice(1));
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p[0] === "/") p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  });
  return out;
}

/** The ignore file in effect for a build and its patterns. */
export interface IgnoreSpec {
  /** Absolute path of the file read, or undefined when there is none. */
  file: string | undefined;
  patterns: string[];
}

/**
 * Finds and reads the ignore file for a build: `<Dockerfile>.dockerignore` next to the
 * Dockerfile wins over `.dockerignore` at the context root.
 */
export async function readIgnoreSpec(contextDir: string, dockerfile?: string): Promise<IgnoreSpec> {
  const df = path.resolve(contextDir, dockerfile ?? "Dockerfile");
  const candidates = [path.join(path.dirname(df), `${path.basename(df)}.dockerignore`), path.join(contextDir, ".dockerignore")];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fsp.readFile(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      throw new ContextError("ERR_CONTEXT_READ", `cannot read ${file}: ${(e as Error).message}`, file, { cause: e });
    }
    return { file, patterns: parseIgnoreFile(text) };
  }
  return { file: undefined, patterns: [] };
}
