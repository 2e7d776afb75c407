// Build checks that can be decided from the Dockerfile alone (BuildKit rule
// names and messages), filtered by `# check=skip=…` in the file and in the
// comments above an instruction.

import type { Dockerfile, InstructionNode, Range, Warning } from "../ast.js";
import type { DockerfileIR, Instruction } from "../ir/types.js";
import { isSkipped, skippedByComments } from "./check-config.js";
import { fromChecks } from "./from-checks.js";
import { Rules, makeWarning, type Rule } from "./rules.js";

const secretDeny = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const secretAllow = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** Whether a keyword is all lower case, all upper case, or mixed (ASCII fast path, no allocation). */
function caseOf(kw: string): "lower" | "upper" | "mixed" {
  let hasLower = false;
  let hasUpper = false;
  for (let i = 0; i < kw.length; i++) {
    const c = kw.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) hasLower = true;
    else if (c >= 0x41 && c <= 0x5a) hasUpper = true;
    else if (c >= 0x80) {
      const lowerOk = kw === kw.toLowerCase();
      const upperOk = kw === kw.toUpperCase();
      return lowerOk ? "lower" : upperOk ? "upper" : "mixed";
    }
  }
  // Like `s === lower(s)` first: a keyword without letters counts as lower case.
  return !hasUpper ? "lower" : !hasLower ? "upper" : "mixed";
}

/** Runs the checks and returns the warnings that are not skipped. */
export function collectWarnings(
  df: Dockerfile,
  ir: DockerfileIR,
  nodes: InstructionNode[][],
  fromNodes: InstructionNode[],
): Warning[] {
  const out: Warning[] = [];
  const add = (rule: Rule, message: string, range: Range, comments: readonly string[] = []) => {
    if (isSkipped(ir.checks, rule.name)) return;
    const local = skippedByComments(comments);
    if (local === "all" || local.has(rule.name)) return;
    out.push(makeWarning(rule, message, range));
  };

  for (const w of df.warnings) add(Rules.NoEmptyContinuation, "Empty continuation line", w.range);

  // ConsistentInstructionCasing: the majority casing over FROM and stage instructions.
  let lower = 0;
  let upper = 0;
  const count = (kw: string) => {
    const c = caseOf(kw);
    if (c === "lower") lower++;
    else if (c === "upper") upper++;
  };
  for (const st of ir.stages) {
    count(st.keyword);
    for (const inst of st.instructions) count(inst.keyword);
  }
  const majorityLower = lower > upper;
  const casing = (kw: string, range: Range, comments: readonly string[]) => {
    if (caseOf(kw) !== (majorityLower ? "lower" : "upper")) {
      add(Rules.ConsistentInstructionCasing, `Command '${kw}' should match the case of the command majority (${majorityLower ? "lowercase" : "uppercase"})`, range, comments);
    }
  };
  for (const st of ir.stages) {
    casing(st.keyword, st.range, fromNodes[st.index].comments);
    st.instructions.forEach((inst, k) => casing(inst.keyword, inst.range, nodes[st.index][k].comments));
  }

  for (const w of fromChecks(ir, fromNodes)) add(w.rule, w.message, w.range, w.comments);

  const shellSet: boolean[] = [];
  const workdirSet: boolean[] = [];
  for (const st of ir.stages) {
    const inherit = st.baseStage !== undefined;
    let shell = inherit ? shellSet[st.baseStage as number] : false;
    let workdir = inherit ? workdirSet[st.baseStage as number] : false;
    const seen = new Map<string, number>();
    let inst: Instruction;
    let comments: readonly string[];
    const at = (rule: Rule, message: string) => add(rule, message, inst.range, comments);
    for (let k = 0; k < st.instructions.length; k++) {
      inst = st.instructions[k];
      comments = nodes[st.index][k].comments;
      switch (inst.kind) {
        case "maintainer":
          at(Rules.MaintainerDeprecated, "Maintainer instruction is deprecated in favor of using label");
          break;
        case "env":
        case "label":
          if (inst.legacy) at(Rules.LegacyKeyValueFormat, `"${inst.keyword} key=value" should be used instead of legacy "${inst.keyword} key value" format`);
          if (inst.kind === "env") for (const p of inst.pairs) secretCheck("ENV", p.key, at);
          break;
        case "arg":
          for (const a of inst.args) secretCheck("ARG", a.name, at);
          break;
        case "shell":
          shell = true;
          break;
        case "workdir":
          if (!workdir && !inst.path.startsWith("/") && !inst.path.includes("$")) {
            at(Rules.WorkdirRelativePath, `Relative workdir "${inst.path}" can have unexpected results if the base image changes`);
          }
          workdir = true;
          break;
        case "expose":
          for (const p of inst.ports) {
            if (p.includes("$")) continue;
            if (p.includes(":")) at(Rules.ExposeInvalidFormat, `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`);
            const slash = p.lastIndexOf("/");
            if (slash >= 0 && p.slice(slash + 1) !== p.slice(slash + 1).toLowerCase()) {
              at(Rules.ExposeProtoCasing, `Defined protocol '${p}' in EXPOSE instruction should be lowercase`);
            }
          }
          break;
        case "cmd":
        case "entrypoint":
          if (inst.form === "shell" && !shell) {
            at(Rules.JSONArgsRecommended, `JSON arguments recommended for ${inst.keyword} to prevent unintended behavior related to OS signals`);
          }
          break;
      }
      if (inst.kind === "cmd" || inst.kind === "entrypoint" || inst.kind === "healthcheck") {
        const prev = seen.get(inst.kind);
        // Reported at the earlier instruction: that is the one that has no effect.
        if (prev !== undefined) {
          add(Rules.MultipleInstructionsDisallowed, `Multiple ${inst.keyword} instructions should not be used in the same stage because only the last one will be used`, st.instructions[prev].range, nodes[st.index][prev].comments);
        }
        seen.set(inst.kind, k);
      }
    }
    shellSet[st.index] = shell;
    workdirSet[st.index] = workdir;
  }
  out.sort((a, b) => a.range.start.line - b.range.start.line);
  return out;
}

function secretCheck(instruction: string, key: string, at: (rule: Rule, message: string) => void): void {
  if (secretDeny.test(key) && !secretAllow.test(key)) {
    at(Rules.SecretsUsedInArgOrEnv, `Do not use ARG or ENV instructions for sensitive data (${instruction} "${key}")`);
  }
}
