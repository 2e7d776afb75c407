// Checks on FROM lines: stage name casing and reserved names, `AS` casing,
// undeclared or invalid ARGs in FROM, constant or redundant --platform.

import type { InstructionNode, Range } from "../ast.js";
import { evaluateGlobalArgs, type GlobalScope } from "../eval/global-args.js";
import { defaultPlatform, parsePlatform } from "../eval/platform.js";
import type { DockerfileIR } from "../ir/types.js";
import { imageReferenceError } from "../reference.js";
import { ShellLex } from "../shell/lex.js";
import { suggest } from "../text/suggest.js";
import { Rules, type Rule } from "./rules.js";

export interface Finding {
  rule: Rule;
  message: string;
  range: Range;
  comments: readonly string[];
}

function defaultScope(ir: DockerfileIR): GlobalScope | undefined {
  const host = defaultPlatform();
  try {
    return evaluateGlobalArgs(ir.globalArgs, new Map(), { target: host, build: host }, ir.escapeToken);
  } catch {
    return undefined; // the build fails on this later; checks are abandoned, as upstream does
  }
}

export function fromChecks(ir: DockerfileIR, fromNodes: InstructionNode[]): Finding[] {
  const out: Finding[] = [];
  const scope = defaultScope(ir);
  const lex = new ShellLex(ir.escapeToken);
  const known = scope ? [...new Set([...scope.declared, ...scope.env.keys()])] : [];
  ir.stages.forEach((st, i) => {
    const node = fromNodes[i];
    const found = (rule: Rule, message: string) => out.push({ rule, message, range: st.range, comments: node.comments });
    const args = node.args;
    if (args.length === 3) {
      if (args[2] !== args[2].toLowerCase()) found(Rules.StageNameCasing, `Stage name '${args[2]}' should be lowercase`);
      const kw = node.keyword;
      const lowerFrom = kw === kw.toLowerCase();
      const upperFrom = kw === kw.toUpperCase();
      if ((lowerFrom && args[1] !== args[1].toLowerCase()) || (!lowerFrom && upperFrom && args[1] !== args[1].toUpperCase())) {
        found(Rules.FromAsCasing, `'${args[1]}' and '${kw}' keywords' casing do not match`);
      }
    }
    if (st.name === "context" || st.name === "scratch") {
      found(Rules.ReservedStageName, `Stage name should not use the same name as reserved stage "${st.name}"`);
    }
    if (!scope) return;
    const undeclared = (unmatched: string[]) => {
      for (const name of unmatched) {
        if (scope.declared.has(name) || scope.env.has(name)) continue;
        const s = suggest(name, known, false);
        found(Rules.UndefinedArgInFrom, `FROM argument '${name}' is not declared${s ? ` (did you mean ${s}?)` : ""}`);
      }
    };
    try {
      const base = lex.processWord(st.base, scope.env);
      undeclared(base.unmatched);
      if (st.base.includes("$") && (base.result === "" || imageReferenceError(base.result))) {
        found(Rules.InvalidDefaultArgInFrom, `Default value for ARG ${st.base} results in empty or invalid base image name`);
      }
    } catch {
      // Expansion errors are reported when the stage is resolved.
    }
    if (st.platform === undefined) return;
    try {
      const plat = lex.processWord(st.platform, scope.env);
      undeclared(plat.unmatched);
      if (plat.used.length === 1 && plat.unmatched.length === 0 && plat.used[0] === "TARGETPLATFORM" && plat.result === scope.env.get("TARGETPLATFORM")) {
        found(Rules.RedundantTargetPlatform, `Setting platform to predefined ${st.platform} in FROM is redundant as this is the default behavior`);
      }
      if (plat.used.length === 0 && plat.unmatched.length === 0) {
        let p;
        try {
          p = parsePlatform(plat.result);
        } catch {
          p = undefined;
        }
        const name = st.name ?? "";
        if (p && !name.includes(p.os) && !name.includes(p.architecture)) {
          found(Rules.FromPlatformFlagConstDisallowed, `FROM --platform flag should not use constant value "${plat.result}"`);
        }
      }
    } catch {
      // As above.
    }
  });
  return out;
}
