// Robustness check: any input either parses, evaluates, or fails with a
// DockerfileSyntaxError — never another exception. Exported for hostile-input tests.

import { dumpBuildkit } from "../dump.js";
import { DockerfileSyntaxError } from "../errors.js";
import { StageEvaluator } from "../eval/evaluator.js";
import { resolveStageBase } from "../eval/resolve-base.js";
import { parseInstructionLine } from "../ir/instruction-line.js";
import { planStages } from "../ir/plan.js";
import { toStages } from "../ir/stages.js";
import { parseDockerfile } from "../lexer/parser.js";
import { mutate, randomDockerfile, randomText, Rng } from "./generate.js";

/** Built-in seeds, used when no corpus is given. */
export const BUILTIN_SEEDS = [
  "# syntax=docker/dockerfile:1\n# check=skip=LegacyKeyValueFormat\nARG BASE=alpine:3.20\nFROM --platform=$BUILDPLATFORM $BASE AS build\nARG TARGETARCH\nWORKDIR /src\nCOPY --link --chmod=644 go.* ./\nRUN --mount=type=cache,target=/root/.cache/go-build,id=gb-$TARGETARCH \\\n    --mount=type=secret,id=tok,env=TOKEN \\\n    go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT [\"/app\"]\n",
  "FROM debian AS base\nENV A=1 B=\"two words\" C=${A:-x}\nLABEL org.opencontainers.image.title=\"t\" v=1\nRUN <<EOF bash\nset -e\necho $A\nEOF\nCOPY <<-'CONF' /etc/app.conf\n\tkey=$B\n\tCONF\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -f http://localhost/ || exit 1\nEXPOSE 80/tcp 443\nVOLUME [\"/data\"]\nUSER app:app\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/bash\", \"-c\"]\nONBUILD COPY . /src\nFROM base\nCMD echo done\n",
  "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir C:\\ `\n  && echo hi\nENV P=C:\\tools\n",
];

function isSyntaxError(e: unknown): boolean {
  if (!(e instanceof DockerfileSyntaxError)) return false;
  e.format();
  return true;
}

/**
 * Runs one input through parsing, dumping, typing, stage planning and
 * evaluation. Returns whether it got through or stopped at a syntax error;
 * any other exception propagates.
 */
export function checkInput(input: string | Uint8Array): "ok" | "syntax-error" {
  let df;
  try {
    df = parseDockerfile(input);
  } catch (e) {
    if (isSyntaxError(e)) return "syntax-error";
    throw e;
  }
  dumpBuildkit(df);
  let ir;
  try {
    ir = toStages(df);
  } catch (e) {
    if (isSyntaxError(e)) return "syntax-error";
    throw e;
  }
  const host = { os: "linux", architecture: "amd64" };
  const platforms = { target: host, build: host };
  const buildArgs = new Map([["V", "v1"], ["http_proxy", "http://proxy"]]);
  let result: "ok" | "syntax-error" = "ok";
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!isSyntaxError(e)) throw e;
      result = "syntax-error";
    }
  };
  guard(() => planStages(ir));
  for (const stage of ir.stages) {
    guard(() => resolveStageBase(stage, ir.globalArgs, buildArgs, platforms, { escapeToken: ir.escapeToken }));
    guard(() => {
      const ev = new StageEvaluator({ globalArgs: ir.globalArgs, buildArgs, baseEnv: ["PATH=/bin"], platforms, escapeToken: ir.escapeToken });
      for (const inst of stage.instructions) {
        const { inst: out } = ev.step(inst);
        if (out.kind === "onbuild") guard(() => parseInstructionLine(out.triggerText));
      }
      ev.imageEnv();
      ev.runEnv();
      ev.argsInScope();
    });
  }
  return result;
}

/** Outcome of a fuzz run. */
export interface FuzzReport {
  cases: number;
  ok: number;
  syntaxErrors: number;
  /** Inputs that raised anything other than DockerfileSyntaxError. */
  failures: Array<{ input: string; error: string }>;
  slowestMs: number;
  slowestInput: string;
}

/**
 * Feeds `n` generated inputs (mutated seeds, random Dockerfiles, random text)
 * through checkInput, deterministically for `seed`. `seeds` defaults to a few
 * built-in Dockerfiles; pass the conformance corpus for more variety.
 */
export function fuzzParser(n: number, seed: number, seeds: readonly string[] = BUILTIN_SEEDS): FuzzReport {
  const r = new Rng(seed);
  const report: FuzzReport = { cases: 0, ok: 0, syntaxErrors: 0, failures: [], slowestMs: 0, slowestInput: "" };
  for (let i = 0; i < n; i++) {
    const kind = r.int(10);
    let input: string;
    if (kind < 5) input = mutate(r.pick(seeds), r);
    else if (kind < 9) input = r.chance(0.3) ? mutate(randomDockerfile(r), r) : randomDockerfile(r);
    else input = randomText(r);
    const t0 = performance.now();
    try {
      if (checkInput(input) === "ok") report.ok++;
      else report.syntaxErrors++;
    } catch (e) {
      report.failures.push({ input, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e) });
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestInput = input;
    }
    report.cases++;
  }
  return report;
}
