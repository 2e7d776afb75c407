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

function selfConsistent(s: string): boolean {
  return s === s.toLowerCase() || s === s.toUpperCase();
}

/** Runs the checks and returns the warnings that are not skipped. */
export function collectWarnings(
  df: Dockerfile,
  ir: DockerfileIR,
  nodes: Map<Instruction, InstructionNode>,
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
  const keywords: Array<{ keyword: string; range: Range; comments: string[] }> = [];
  ir.stages.forEach((st, i) => {
    keywords.push({ keyword: st.keyword, range: st.range, comments: fromNodes[i].comments });
    for (const inst of st.instructions) keywords.push({ keyword: inst.keyword, range: inst.range, comments: nodes.get(inst)?.comments ?? [] });
  });
  for (const k of keywords) {
    if (!selfConsistent(k.keyword)) continue;
    if (k.keyword === k.keyword.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  for (const k of keywords) {
    const want = majorityLower ? k.keyword.toLowerCase() : k.keyword.toUpperCase();
    if (k.keyword !== want) {
      add(Rules.ConsistentInstructionCasing, `Command '${k.keyword}' should match the case of the command majority (${majorityLower ? "lowercase" : "uppercase"})`, k.range, k.comments);
    }
  }

  for (const w of fromChecks(ir, fromNodes)) add(w.rule, w.message, w.range, w.comments);

  const shellSet: boolean[] = [];
  const workdirSet: boolean[] = [];
  for (const st of ir.stages) {
    const inherit = st.baseStage !== undefined;
    let shell = inherit ? shellSet[st.baseStage as number] : false;
    let workdir = inherit ? workdirSet[st.baseStage as number] : false;
    const seen = new Map<string, Instruction>();
    for (const inst of st.instructions) {
      const comments = nodes.get(inst)?.comments ?? [];
      const at = (rule: Rule, message: string, range: Range = inst.range) => add(rule, message, range, comments);
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
        if (prev) add(Rules.MultipleInstructionsDisallowed, `Multiple ${inst.keyword} instructions should not be used in the same stage because only the last one will be used`, prev.range, nodes.get(prev)?.comments ?? []);
        seen.set(inst.kind, inst);
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
