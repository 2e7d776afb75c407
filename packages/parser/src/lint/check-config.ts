// `# check=skip=A,B;error=true`: which build checks run and whether they fail the build.

import type { Dockerfile } from "../ast.js";
import { DockerfileSyntaxError, sourceLineAt } from "../errors.js";
import { matchDirective } from "../lexer/directives.js";
import { goTrimLeft } from "../text/unicode.js";
import type { CheckConfig } from "../ir/types.js";

/** Thrown for a malformed check option. */
export class CheckOptionError extends Error {}

const BOOL_TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const BOOL_FALSE = ["0", "f", "F", "FALSE", "false", "False"];

/** Parses a check option string (BuildKit's ParseLintOptions; `experimental=` is accepted and ignored). */
export function parseCheckOptions(value: string): CheckConfig {
  const out: CheckConfig = { skip: [], error: false };
  const s = value.trim();
  if (s === "") return out;
  // At most three parts, as upstream (SplitN(…, ";", 3)).
  const parts = s.split(";");
  const limited = parts.length > 3 ? [...parts.slice(0, 2), parts.slice(2).join(";")] : parts;
  for (const p of limited) {
    const eq = p.indexOf("=");
    if (eq < 0) throw new CheckOptionError(`invalid check option ${JSON.stringify(p)}`);
    const k = p.slice(0, eq).trim();
    const v = p.slice(eq + 1).trim();
    if (k === "skip") {
      out.skip = v === "all" ? "all" : v.split(",").map((r) => r.trim());
    } else if (k === "experimental") {
      // No experimental rules are implemented.
    } else if (k === "error") {
      if (BOOL_TRUE.includes(v)) out.error = true;
      else if (BOOL_FALSE.includes(v)) out.error = false;
      else throw new CheckOptionError(`failed to parse check option ${JSON.stringify(p)}: invalid boolean ${JSON.stringify(v)}`);
    } else {
      throw new CheckOptionError(`invalid check option ${JSON.stringify(k)}`);
    }
  }
  return out;
}

/** The check configuration of a parsed Dockerfile (from its `check` directive). */
export function checkConfigOf(df: Dockerfile): CheckConfig {
  const d = df.directives.find((x) => x.name === "check");
  if (!d) return { skip: [], error: false };
  // Upstream uses the directive value up to the first space.
  const value = d.value.split(" ")[0];
  try {
    return parseCheckOptions(value);
  } catch (e) {
    if (!(e instanceof CheckOptionError)) throw e;
    throw new DockerfileSyntaxError(`failed to parse check options: ${e.message}`, {
      file: df.file,
      line: d.line,
      column: 1,
      sourceLine: sourceLineAt(df.source, d.line),
    });
  }
}


/** Rules skipped by `# check=skip=…` comments directly above an instruction. */
export function skippedByComments(comments: readonly string[]): Set<string> | "all" {
  const out = new Set<string>();
  for (const c of comments) {
    const m = matchDirective(goTrimLeft(c));
    if (!m || m[0].toLowerCase() !== "check") continue;
    try {
      const cfg = parseCheckOptions(m[1].split(" ")[0]);
      if (cfg.skip === "all") return "all";
      for (const r of cfg.skip) out.add(r);
    } catch {
      // Upstream ignores a malformed per-instruction check comment.
    }
    break;
  }
  return out;
}

/** Whether a rule is switched off by the file's configuration. */
export function isSkipped(cfg: CheckConfig, rule: string): boolean {
  return cfg.skip === "all" || cfg.skip.includes(rule);
}
