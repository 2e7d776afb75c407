// ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, ARG, STOPSIGNAL, MAINTAINER.

import type { InstructionNode } from "../ast.js";
import { goTrimSpace } from "../text/unicode.js";
import { baseOf, errAtLeastOne, errExactlyOne } from "./convert-common.js";
import { FlagSet } from "./flags.js";
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

function noFlags(node: InstructionNode): void {
  new FlagSet(node.flags).parse();
}

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
  noFlags(node);
  return { ...baseOf(node), kind: "env", ...keyValues(node, "ENV") };
}

export function convertLabel(node: InstructionNode): LabelInstruction {
  noFlags(node);
  return { ...baseOf(node), kind: "label", ...keyValues(node, "LABEL") };
}

export function convertExpose(node: InstructionNode): ExposeInstruction {
  if (node.args.length === 0) throw errAtLeastOne("EXPOSE");
  noFlags(node);
  return { ...baseOf(node), kind: "expose", ports: [...node.args] };
}

export function convertVolume(node: InstructionNode): VolumeInstruction {
  if (node.args.length === 0) throw errAtLeastOne("VOLUME");
  noFlags(node);
  const paths = node.args.map(goTrimSpace);
  if (paths.some((p) => p === "")) throw new InstructionError("VOLUME specified can not be an empty string");
  return { ...baseOf(node), kind: "volume", paths };
}

export function convertUser(node: InstructionNode): UserInstruction {
  if (node.args.length !== 1) throw errExactlyOne("USER");
  noFlags(node);
  return { ...baseOf(node), kind: "user", user: node.args[0] };
}

export function convertWorkdir(node: InstructionNode): WorkdirInstruction {
  if (node.args.length !== 1) throw errExactlyOne("WORKDIR");
  noFlags(node);
  return { ...baseOf(node), kind: "workdir", path: node.args[0] };
}

export function convertStopsignal(node: InstructionNode): StopsignalInstruction {
  if (node.args.length !== 1) throw errExactlyOne("STOPSIGNAL");
  noFlags(node);
  return { ...baseOf(node), kind: "stopsignal", signal: node.args[0] };
}

export function convertMaintainer(node: InstructionNode): MaintainerInstruction {
  if (node.args.length !== 1) throw errExactlyOne("MAINTAINER");
  noFlags(node);
  return { ...baseOf(node), kind: "maintainer", name: node.args[0] };
}

export function convertArg(node: InstructionNode): ArgInstruction {
  if (node.args.length === 0) throw errAtLeastOne("ARG");
  noFlags(node);
  const args: ArgDefinition[] = node.args.map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) return { name: word };
    if (eq === 0) throw new InstructionError("ARG names can not be blank", word);
    return { name: word.slice(0, eq), default: word.slice(eq + 1) };
  });
  return { ...baseOf(node), kind: "arg", args };
}
