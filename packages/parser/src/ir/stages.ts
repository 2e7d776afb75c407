// toStages: parser nodes → typed, validated stages with their dependency graph.

import type { Dockerfile, InstructionNode } from "../ast.js";
import { DockerfileSyntaxError, sourceLineAt } from "../errors.js";
import { checkConfigOf } from "../lint/check-config.js";
import { collectWarnings } from "../lint/checks.js";
import { imageReferenceError } from "../reference.js";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";
import { originalOf } from "./convert-common.js";
import { convertInstruction } from "./convert.js";
import { flagString, parseFlags } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import type { ArgInstruction, DockerfileIR, Instruction, Stage, StageDependency } from "./types.js";

const validStageName = /^[a-z][a-z0-9\-_.]*$/;
const FROM_FLAGS = { platform: "string" } as const;

/** Builds a DockerfileSyntaxError pointing at `node` (or at `near` inside its first line). */
export function errorAt(df: Dockerfile, node: InstructionNode, reason: string, near?: string): DockerfileSyntaxError {
  const line = node.range.start.line;
  const sourceLine = sourceLineAt(df.source, line);
  let column = node.range.start.column;
  if (near) {
    const from = column - 1 + node.keyword.length;
    let i = sourceLine.indexOf(near, from);
    // A flag word may have lost quotes or escapes: fall back to its name.
    if (i < 0 && near.startsWith("--") && near.includes("=")) i = sourceLine.indexOf(near.slice(0, near.indexOf("=")), from);
    if (i >= 0) column = i + 1;
  }
  return new DockerfileSyntaxError(reason, { file: df.file, line, column, sourceLine, endLine: node.range.end.line });
}

function convertOrThrow(df: Dockerfile, node: InstructionNode): Instruction {
  try {
    return convertInstruction(node);
  } catch (e) {
    if (e instanceof InstructionError) throw errorAt(df, node, e.message, e.near);
    throw e;
  }
}

function convertFrom(df: Dockerfile, node: InstructionNode, index: number): Stage {
  const args = node.args;
  let name: string | undefined;
  if (args.length === 3 && args[1].toLowerCase() === "as") {
    name = args[2].toLowerCase();
    if (!validStageName.test(name)) {
      throw errorAt(df, node, `invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`, args[2]);
    }
  } else if (args.length !== 1) {
    throw errorAt(df, node, "FROM requires either one or three arguments (FROM <image> [AS <name>])");
  }
  let flags;
  try {
    flags = parseFlags(node.flags, FROM_FLAGS);
  } catch (e) {
    if (e instanceof InstructionError) throw errorAt(df, node, e.message, e.near);
    throw e;
  }
  const r = node.range;
  const stage: Stage = {
    index,
    base: args[0],
    instructions: [],
    dependencies: [],
    keyword: node.keyword,
    range: r,
    line: r.start.line,
    text: node.text,
    original: originalOf(node),
  };
  if (name !== undefined) stage.name = name;
  const platform = flagString(flags, "platform");
  if (platform !== undefined && platform !== "") stage.platform = platform;
  return stage;
}

const emptyEnv = new Map<string, string>();
const lexers = { "\\": new ShellLex("\\"), "`": new ShellLex("`") };

function lexFor(df: Dockerfile): ShellLex {
  return lexers[df.escapeToken];
}

/** Resolves `--from` of COPY: a stage name or index, else an image reference (checked for syntax). */
function resolveCopyFrom(df: Dockerfile, node: InstructionNode, from: string, stages: Stage[], byName: Map<string, number>): number | undefined {
  let expanded: string;
  try {
    expanded = lexFor(df).processWord(from, emptyEnv).result;
  } catch (e) {
    if (e instanceof ShellExpansionError) throw errorAt(df, node, e.message, "--from");
    throw e;
  }
  if (expanded !== from) {
    throw errorAt(df, node, "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround", "--from");
  }
  if (/^[+-]?[0-9]+$/.test(from)) {
    const index = Number(from);
    if (index < 0 || index >= stages.length) throw errorAt(df, node, `invalid stage index ${index}`, "--from");
    return index;
  }
  const named = byName.get(from.toLowerCase());
  if (named !== undefined) return named;
  const why = imageReferenceError(from);
  if (why) throw errorAt(df, node, `--from=${from} is neither a build stage nor a valid image reference: ${why}`, "--from");
  return undefined;
}

/** The index of the stage called `name` (case-insensitively, as BuildKit looks them up). */
export function findStageByName(stages: readonly Stage[], name: string): number | undefined {
  const lower = name.toLowerCase();
  for (let i = stages.length - 1; i >= 0; i--) if (stages[i].name === lower) return i;
  return undefined;
}

function linkDependencies(df: Dockerfile, stages: Stage[], nodes: InstructionNode[][], fromNodes: InstructionNode[]): void {
  const byName = new Map<string, number>();
  for (const st of stages) if (st.name !== undefined) byName.set(st.name, st.index);
  for (const stage of stages) {
    const fromNode = fromNodes[stage.index];
    if (!stage.base.includes("$")) {
      // BuildKit runs shell word processing on the FROM word first: `FROM "img"` is img.
      let base: string;
      try {
        base = lexFor(df).processWord(stage.base, emptyEnv).result;
      } catch (e) {
        if (e instanceof ShellExpansionError) throw errorAt(df, fromNode, e.message, stage.base);
        throw e;
      }
      // FROM sees only earlier stages, by their exact (lower-case) name.
      const named = byName.get(base);
      const earlier = named !== undefined && named < stage.index ? named : -1;
      if (earlier >= 0) {
        stage.baseStage = earlier;
        stage.dependencies.push({ stage: earlier, via: "from", line: stage.line });
      } else if (base !== "scratch") {
        const why = imageReferenceError(base);
        if (why) {
          const lowerIdx = byName.get(base.toLowerCase());
          const hint = lowerIdx !== undefined && lowerIdx < stage.index ? ` (stage names are lower case: use ${base.toLowerCase()})` : "";
          throw errorAt(df, fromNode, `invalid base image "${base}": ${why}${hint}`, stage.base);
        }
      }
    }
    const insts = stage.instructions;
    for (let k = 0; k < insts.length; k++) {
      const inst = insts[k];
      const node = nodes[stage.index][k];
      if (inst.kind === "copy" && inst.from !== undefined) {
        const idx = resolveCopyFrom(df, node, inst.from, stages, byName);
        if (idx !== undefined) {
          inst.fromStage = idx;
          stage.dependencies.push({ stage: idx, via: "copy", line: inst.line });
        }
      } else if (inst.kind === "run") {
        for (const m of inst.mounts) {
          const from = "from" in m ? m.from : undefined;
          if (from === undefined || from === "" || m.hasVariables) continue;
          const idx = byName.get(from.toLowerCase());
          if (idx !== undefined) {
            m.fromStage = idx;
            stage.dependencies.push({ stage: idx, via: "mount", line: inst.line });
          } else {
            const why = imageReferenceError(from);
            if (why) throw errorAt(df, node, `mount from=${from} is neither a build stage nor a valid image reference: ${why}`, "--mount");
          }
        }
      }
    }
  }
  checkCycles(df, stages);
}

function checkCycles(df: Dockerfile, stages: Stage[]): void {
  const state = new Uint8Array(stages.length); // 0 new, 1 on the current path, 2 done
  for (const root of stages) {
    if (state[root.index] !== 0) continue;
    const stack: Array<{ stage: Stage; next: number }> = [{ stage: root, next: 0 }];
    state[root.index] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next >= top.stage.dependencies.length) {
        state[top.stage.index] = 2;
        stack.pop();
        continue;
      }
      const dep: StageDependency = top.stage.dependencies[top.next++];
      if (state[dep.stage] === 1) {
        const name = stages[dep.stage].name ?? `stage-${dep.stage}`;
        const sourceLine = sourceLineAt(df.source, dep.line);
        const column = sourceLine.length - sourceLine.trimStart().length + 1;
        throw new DockerfileSyntaxError(`circular dependency detected on stage: ${name}`, { file: df.file, line: dep.line, column, sourceLine });
      }
      if (state[dep.stage] === 0) {
        state[dep.stage] = 1;
        stack.push({ stage: stages[dep.stage], next: 0 });
      }
    }
  }
}

/**
 * Converts a parsed Dockerfile into typed, validated stages: every instruction
 * checked (arguments, flags, mount options, durations…), stage names checked,
 * the stage graph linked (FROM <stage>, COPY --from, RUN --mount from=), build
 * checks run and filtered by `# check=`. Words stay unexpanded. Throws
 * DockerfileSyntaxError.
 */
export function toStages(df: Dockerfile): DockerfileIR {
  const checks = checkConfigOf(df);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  // nodes[stage][i] is the parser node of stages[stage].instructions[i].
  const nodes: InstructionNode[][] = [];
  const fromNodes: InstructionNode[] = [];
  const names = new Map<string, number>();
  for (const node of df.instructions) {
    const kw = node.keyword;
    if (kw.length === 4 && kw.toLowerCase() === "from") {
      const stage = convertFrom(df, node, stages.length);
      if (stage.name !== undefined) {
        const prev = names.get(stage.name);
        if (prev !== undefined) throw errorAt(df, node, `duplicate stage name "${stage.name}" (already used on line ${prev})`, node.args[2]);
        names.set(stage.name, stage.line);
      }
      stages.push(stage);
      fromNodes.push(node);
      nodes.push([]);
      continue;
    }
    const inst = convertOrThrow(df, node);
    if (stages.length === 0) {
      if (inst.kind === "arg") {
        globalArgs.push(inst);
        continue;
      }
      throw errorAt(df, node, `no build stage in current context: ${node.keyword.toUpperCase()} must come after a FROM instruction (only ARG may precede the first FROM)`);
    }
    stages[stages.length - 1].instructions.push(inst);
    nodes[stages.length - 1].push(node);
  }
  if (stages.length === 0) throw errorAt(df, df.instructions[0], "dockerfile contains no stages to build (add a FROM instruction)");
  linkDependencies(df, stages, nodes, fromNodes);
  const ir: DockerfileIR = { file: df.file, globalArgs, stages, warnings: [], checks, escapeToken: df.escapeToken };
  if (df.syntax !== undefined) ir.syntax = df.syntax;
  ir.warnings = collectWarnings(df, ir, nodes, fromNodes);
  return ir;
}
