// ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, ARG, STOPSIGNAL, MAINTAINER.
// Objects are written out field by field (see convert-common.ts on why not spread).

import type { InstructionNode } from "../ast.js";
import { goTrimSpace } from "../text/unicode.js";
import { errAtLeastOne, errExactlyOne, originalOf } from "./convert-common.js";
import { parseFlags } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import type {
  ArgDefinition,
  ArgInstruction,
  EnvInstruction,
  ExposeInstruction,
  KeyValue,
  LabelInstruction,
  MaintainerInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from "./types.js";

const NO_FLAGS = {};

/** ENV/LABEL arguments come in (key, value, marker) triples; marker "" means the legacy form. */
function keyValues(node: InstructionNode, name: string): { pairs: KeyValue[]; legacy: boolean } {
  const a = node.args;
  if (a.length === 0) throw errAtLeastOne(name);
  if (a.length % 3 !== 0) throw new InstructionError(`Bad input to ${name}, too many arguments`);
  const pairs: KeyValue[] = [];
  let legacy = false;
  for (let i = 0; i < a.length; i += 3) {
    if (a[i] === "") throw new InstructionError(`${name} names can not be blank`);
    pairs.push({ key: a[i], value: a[i + 1] });
    if (a[i + 2] === "") legacy = true;
  }
  return { pairs, legacy };
}

export function convertEnv(node: InstructionNode): EnvInstruction {
  parseFlags(node.flags, NO_FLAGS);
  const { pairs, legacy } = keyValues(node, "ENV");
  const r = node.range;
  return { kind: "env", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), pairs, legacy };
}

export function convertLabel(node: InstructionNode): LabelInstruction {
  parseFlags(node.flags, NO_FLAGS);
  const { pairs, legacy } = keyValues(node, "LABEL");
  const r = node.range;
  return { kind: "label", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), pairs, legacy };
}

export function convertExpose(node: InstructionNode): ExposeInstruction {
  if (node.args.length === 0) throw errAtLeastOne("EXPOSE");
  parseFlags(node.flags, NO_FLAGS);
  const r = node.range;
  return { kind: "expose", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), ports: node.args };
}

export function convertVolume(node: InstructionNode): VolumeInstruction {
  if (node.args.length === 0) throw errAtLeastOne("VOLUME");
  parseFlags(node.flags, NO_FLAGS);
  const paths = node.args.map(goTrimSpace);
  if (paths.some((p) => p === "")) throw new InstructionError("VOLUME specified can not be an empty string");
  const r = node.range;
  return { kind: "volume", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), paths };
}

function single(node: InstructionNode, name: string): string {
  if (node.args.length !== 1) throw errExactlyOne(name);
  parseFlags(node.flags, NO_FLAGS);
  return node.args[0];
}

export function convertUser(node: InstructionNode): UserInstruction {
  const user = single(node, "USER");
  const r = node.range;
  return { kind: "user", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), user };
}

export function convertWorkdir(node: InstructionNode): WorkdirInstruction {
  const path = single(node, "WORKDIR");
  const r = node.range;
  return { kind: "workdir", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), path };
}

export function convertStopsignal(node: InstructionNode): StopsignalInstruction {
  const signal = single(node, "STOPSIGNAL");
  const r = node.range;
  return { kind: "stopsignal", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), signal };
}

export function convertMaintainer(node: InstructionNode): MaintainerInstruction {
  const name = single(node, "MAINTAINER");
  const r = node.range;
  return { kind: "maintainer", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), name };
}

export function convertArg(node: InstructionNode): ArgInstruction {
  if (node.args.length === 0) throw errAtLeastOne("ARG");
  parseFlags(node.flags, NO_FLAGS);
  const args: ArgDefinition[] = node.args.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) return { name: word };
    if (eq === 0) throw new InstructionError("ARG names can not be blank", word);
    return { name: word.slice(0, eq), default: word.slice(eq + 1) };
  });
  const r = node.range;
  return { kind: "arg", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), args };
}
