// RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK.
// Objects are written out field by field (see convert-common.ts on why not spread).

import type { InstructionNode } from "../ast.js";
import { EMPTY } from "../lexer/line-parsers.js";
import { commandOf, errAtLeastOne, originalOf, toHeredoc } from "./convert-common.js";
import { DurationError, parseGoDuration } from "./duration.js";
import { flagString, flagStrings, parseFlags, type ParsedFlags } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import { parseDevice, parseMount } from "./mounts.js";
import type {
  CmdInstruction,
  EntrypointInstruction,
  HealthcheckInstruction,
  NetworkMode,
  RunInstruction,
  SecurityMode,
  ShellInstruction,
} from "./types.js";

const NETWORKS: readonly string[] = ["default", "none", "host"];
const SECURITY: readonly string[] = ["sandbox", "insecure"];
const RUN_FLAGS = { mount: "strings", network: "string", security: "string", device: "strings" } as const;
const HEALTH_FLAGS = { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" } as const;
const NO_FLAGS = {};

export function convertRun(node: InstructionNode): RunInstruction {
  const flags = parseFlags(node.flags, RUN_FLAGS);
  const network = flagString(flags, "network");
  if (network !== undefined && !NETWORKS.includes(network)) {
    throw new InstructionError(`invalid network mode "${network}" (expected default, none or host)`, "--network");
  }
  const security = flagString(flags, "security");
  if (security !== undefined && !SECURITY.includes(security)) {
    throw new InstructionError(`security "${security}" is not valid (expected sandbox or insecure)`, "--security");
  }
  const r = node.range;
  const out = {
    kind: "run",
    keyword: node.keyword,
    range: r,
    line: r.start.line,
    text: node.text,
    original: originalOf(node),
    form: node.json ? "exec" : "shell",
    command: commandOf(node),
    heredocs: node.heredocs.length === 0 ? EMPTY : node.heredocs.map(toHeredoc),
    mounts: flags.has("mount") ? flagStrings(flags, "mount").map((m) => parseMount(m)) : EMPTY,
    devices: flags.has("device") ? flagStrings(flags, "device").map(parseDevice) : EMPTY,
  } as RunInstruction;
  if (network !== undefined) out.network = network as NetworkMode;
  if (security !== undefined) out.security = security as SecurityMode;
  return out;
}

export function convertCmd(node: InstructionNode): CmdInstruction {
  parseFlags(node.flags, NO_FLAGS);
  const r = node.range;
  return { kind: "cmd", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), form: node.json ? "exec" : "shell", command: commandOf(node) } as CmdInstruction;
}

export function convertEntrypoint(node: InstructionNode): EntrypointInstruction {
  parseFlags(node.flags, NO_FLAGS);
  const r = node.range;
  return { kind: "entrypoint", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), form: node.json ? "exec" : "shell", command: commandOf(node) } as EntrypointInstruction;
}

export function convertShell(node: InstructionNode): ShellInstruction {
  parseFlags(node.flags, NO_FLAGS);
  if (node.args.length === 0) throw errAtLeastOne("SHELL");
  if (!node.json) throw new InstructionError('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
  const r = node.range;
  return { kind: "shell", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), shell: node.args };
}

function duration(flags: ParsedFlags, name: string): number | undefined {
  const v = flagString(flags, name);
  if (v === undefined || v === "") return undefined;
  let d: number;
  try {
    d = parseGoDuration(v);
  } catch (e) {
    if (e instanceof DurationError) throw new InstructionError(`invalid value for --${name}: ${e.message}`, `--${name}`);
    throw e;
  }
  if (d === 0) return undefined;
  if (d < 1_000_000) throw new InstructionError(`Interval "${name}" cannot be less than 1ms`, `--${name}`);
  return d;
}

export function convertHealthcheck(node: InstructionNode): HealthcheckInstruction {
  if (node.args.length === 0) throw errAtLeastOne("HEALTHCHECK");
  const flags = parseFlags(node.flags, HEALTH_FLAGS);
  const typ = node.args[0].toUpperCase();
  const rest = node.args.slice(1);
  const r = node.range;
  const out: HealthcheckInstruction = { kind: "healthcheck", keyword: node.keyword, range: r, line: r.start.line, text: node.text, original: originalOf(node), test: "NONE" };
  if (typ === "NONE") {
    if (rest.length !== 0) throw new InstructionError("HEALTHCHECK NONE takes no arguments", rest[0]);
    return out;
  }
  if (typ !== "CMD") throw new InstructionError(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`, node.args[0]);
  if (rest.length === 0 || (!node.json && rest.join(" ") === "")) {
    throw new InstructionError("Missing command after HEALTHCHECK CMD");
  }
  out.test = node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
  const interval = duration(flags, "interval");
  const timeout = duration(flags, "timeout");
  const startPeriod = duration(flags, "start-period");
  const startInterval = duration(flags, "start-interval");
  if (interval !== undefined) out.interval = interval;
  if (timeout !== undefined) out.timeout = timeout;
  if (startPeriod !== undefined) out.startPeriod = startPeriod;
  if (startInterval !== undefined) out.startInterval = startInterval;
  const retries = flagString(flags, "retries");
  if (retries !== undefined && retries !== "") {
    if (!/^[+-]?[0-9]+$/.test(retries) || Math.abs(Number(retries)) > 2147483647) {
      throw new InstructionError(`invalid value for --retries: "${retries}" is not a 32-bit integer`, "--retries");
    }
    const n = Number(retries);
    if (n < 0) throw new InstructionError(`--retries cannot be negative (${n})`, "--retries");
    out.retries = n;
  }
  return out;
}
