// RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK.

import type { InstructionNode } from "../ast.js";
import { baseOf, commandLine, errAtLeastOne, toHeredoc } from "./convert-common.js";
import { DurationError, parseGoDuration } from "./duration.js";
import { FlagSet } from "./flags.js";
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

const NETWORKS: NetworkMode[] = ["default", "none", "host"];
const SECURITY: SecurityMode[] = ["sandbox", "insecure"];

export function convertRun(node: InstructionNode): RunInstruction {
  const flags = new FlagSet(node.flags);
  flags.addStrings("mount");
  flags.addString("network");
  flags.addString("security");
  flags.addStrings("device");
  flags.parse();
  const network = flags.stringIfUsed("network");
  if (network !== undefined && !NETWORKS.includes(network as NetworkMode)) {
    throw new InstructionError(`invalid network mode "${network}" (expected default, none or host)`, "--network");
  }
  const security = flags.stringIfUsed("security");
  if (security !== undefined && !SECURITY.includes(security as SecurityMode)) {
    throw new InstructionError(`security "${security}" is not valid (expected sandbox or insecure)`, "--security");
  }
  const out: RunInstruction = {
    ...baseOf(node),
    kind: "run",
    ...commandLine(node),
    heredocs: node.heredocs.map(toHeredoc),
    mounts: flags.strings("mount").map((m) => parseMount(m)),
    devices: flags.strings("device").map(parseDevice),
  };
  if (network !== undefined) out.network = network as NetworkMode;
  if (security !== undefined) out.security = security as SecurityMode;
  return out;
}

function noFlags(node: InstructionNode): void {
  new FlagSet(node.flags).parse();
}

export function convertCmd(node: InstructionNode): CmdInstruction {
  noFlags(node);
  return { ...baseOf(node), kind: "cmd", ...commandLine(node) };
}

export function convertEntrypoint(node: InstructionNode): EntrypointInstruction {
  noFlags(node);
  return { ...baseOf(node), kind: "entrypoint", ...commandLine(node) };
}

export function convertShell(node: InstructionNode): ShellInstruction {
  noFlags(node);
  if (node.args.length === 0) throw errAtLeastOne("SHELL");
  if (!node.json) throw new InstructionError('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
  return { ...baseOf(node), kind: "shell", shell: [...node.args] };
}

function duration(flags: FlagSet, name: string): number | undefined {
  const v = flags.string(name);
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
  const flags = new FlagSet(node.flags);
  for (const f of ["interval", "timeout", "start-period", "start-interval", "retries"]) flags.addString(f);
  flags.parse();
  const typ = node.args[0].toUpperCase();
  const rest = node.args.slice(1);
  const base = { ...baseOf(node), kind: "healthcheck" as const };
  if (typ === "NONE") {
    if (rest.length !== 0) throw new InstructionError("HEALTHCHECK NONE takes no arguments", rest[0]);
    return { ...base, test: "NONE" };
  }
  if (typ !== "CMD") throw new InstructionError(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`, node.args[0]);
  if (rest.length === 0 || (!node.json && rest.join(" ") === "")) {
    throw new InstructionError("Missing command after HEALTHCHECK CMD");
  }
  const test = node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
  const out: HealthcheckInstruction = { ...base, test };
  const interval = duration(flags, "interval");
  const timeout = duration(flags, "timeout");
  const startPeriod = duration(flags, "start-period");
  const startInterval = duration(flags, "start-interval");
  if (interval !== undefined) out.interval = interval;
  if (timeout !== undefined) out.timeout = timeout;
  if (startPeriod !== undefined) out.startPeriod = startPeriod;
  if (startInterval !== undefined) out.startInterval = startInterval;
  const retries = flags.string("retries");
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
