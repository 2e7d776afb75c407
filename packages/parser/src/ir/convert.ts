// Node → typed instruction dispatch, ONBUILD, and unknown instructions.

import type { InstructionNode } from "../ast.js";
import { withSuggestion } from "../text/suggest.js";
import { convertCmd, convertEntrypoint, convertHealthcheck, convertRun, convertShell } from "./convert-commands.js";
import { errAtLeastOne, originalOf } from "./convert-common.js";
import { convertAdd, convertCopy } from "./convert-copy.js";
import {
  convertArg,
  convertEnv,
  convertExpose,
  convertLabel,
  convertMaintainer,
  convertStopsignal,
  convertUser,
  convertVolume,
  convertWorkdir,
} from "./convert-simple.js";
import { parseFlags } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import type { Instruction, OnbuildInstruction } from "./types.js";

/** Every instruction keyword, FROM included (for suggestions). */
export const INSTRUCTION_NAMES = [
  "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
  "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
];

const converters: Record<string, (node: InstructionNode) => Instruction> = {
  run: convertRun,
  cmd: convertCmd,
  entrypoint: convertEntrypoint,
  shell: convertShell,
  healthcheck: convertHealthcheck,
  copy: convertCopy,
  add: convertAdd,
  env: convertEnv,
  label: convertLabel,
  expose: convertExpose,
  volume: convertVolume,
  user: convertUser,
  workdir: convertWorkdir,
  stopsignal: convertStopsignal,
  maintainer: convertMaintainer,
  arg: convertArg,
  onbuild: convertOnbuild,
};

/** Whether a keyword names an instruction we know (FROM included). */
export function isKnownKeyword(keyword: string): boolean {
  const k = keyword.toLowerCase();
  return k === "from" || Object.prototype.hasOwnProperty.call(converters, k);
}

/** Converts one non-FROM node into its typed instruction; throws InstructionError. */
// Upper- and lower-case spellings resolve without allocating a lower-cased copy.
const byExactKeyword = new Map<string, (node: InstructionNode) => Instruction>();
for (const [k, fn] of Object.entries(converters)) {
  byExactKeyword.set(k, fn);
  byExactKeyword.set(k.toUpperCase(), fn);
}

export function convertInstruction(node: InstructionNode): Instruction {
  let fn = byExactKeyword.get(node.keyword);
  if (!fn) {
    const k = node.keyword.toLowerCase();
    fn = Object.prototype.hasOwnProperty.call(converters, k) ? converters[k] : undefined;
  }
  if (!fn) {
    throw new InstructionError(withSuggestion(`unknown instruction: ${node.keyword}`, node.keyword.toUpperCase(), INSTRUCTION_NAMES));
  }
  return fn(node);
}

const onbuildPrefix = /^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i;

function convertOnbuild(node: InstructionNode): OnbuildInstruction {
  const child = node.child;
  if (!child) throw errAtLeastOne("ONBUILD");
  parseFlags(node.flags, {});
  const trig = child.keyword.toUpperCase();
  if (trig === "ONBUILD") throw new InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", child.keyword);
  if (trig === "MAINTAINER" || trig === "FROM") throw new InstructionError(`${trig} isn't allowed as an ONBUILD trigger`, child.keyword);
  // What the image config stores: the line without ONBUILD, heredoc bodies appended as written.
  let triggerText = node.original.replace(onbuildPrefix, "");
  for (const h of node.heredocs) triggerText += "\n" + h.content + h.name;
  const trigger = convertInstruction({ ...child, heredocs: node.heredocs });
  const r = node.range;
  return { kind: "onbuild", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), trigger, triggerText };
}
