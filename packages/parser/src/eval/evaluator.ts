// StageEvaluator: the variable scope of one stage, instruction by instruction,
// with BuildKit's rules for ARG, ENV, build args and the automatic ARGs.

import type { EscapeToken } from "../ast.js";
import { InstructionError } from "../ir/instruction-error.js";
import type { ArgInstruction, Instruction } from "../ir/types.js";
import { ShellExpansionError, ShellLex } from "../shell/lex.js";
import { expansionError, instructionError } from "./eval-error.js";
import { expandInstruction, makeExpander, type Expander } from "./expand.js";
import { evaluateGlobalArgs, PROXY_ARGS, type BuildPlatforms } from "./global-args.js";

/** What a StageEvaluator starts from. */
export interface StageEvaluatorInit {
  /** ARG instructions before the first FROM. */
  globalArgs: readonly ArgInstruction[];
  /** --build-arg values. */
  buildArgs: ReadonlyMap<string, string>;
  /** Env of the base image config ("K=V"). Ignored when `parent` is given. */
  baseEnv: readonly string[];
  platforms: BuildPlatforms;
  escapeToken: EscapeToken;
  /** Target stage name, for the TARGETSTAGE argument. */
  targetStage?: string;
  /** File name for error messages. */
  file?: string;
  /** For `FROM <stage>`: the evaluator of that stage after its last instruction; its scope is inherited. */
  parent?: StageEvaluator;
}

// Build arguments that configure BuildKit and never reach the environment.
const NON_ENV_ARGS = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function splitEnv(kv: string): [string, string] {
  const eq = kv.indexOf("=");
  return eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
}

/**
 * Evaluates one stage: `step` expands an instruction with the scope as it was
 * before it, then applies its effect (ENV, ARG). The scope mirrors BuildKit:
 * one ordered environment holding the base image env, ARG values and ENV
 * values (a re-assigned name moves to the end); global ARGs are visible only
 * when re-declared; --build-arg values win over ARG defaults.
 */
export class StageEvaluator {
  private readonly lex: ShellLex;
  private readonly file: string;
  private readonly buildArgs: ReadonlyMap<string, string>;
  private readonly globalEnv: Map<string, string>;
  /** The state environment (what RUN sees and what words expand against). */
  private env: Map<string, string>;
  /** Which kind of instruction last set each name. */
  private origin: Map<string, "arg" | "env">;
  /** ARGs declared in this stage (and inherited), in order, with their values. */
  private args: Map<string, string | undefined>;
  /** The image config env list ("K=V"), updated in place like Docker does. */
  private image: string[];
  /** Position of each name in `image` (built on first use). */
  private imageIndex: Map<string, number> | undefined;

  constructor(init: StageEvaluatorInit) {
    this.lex = new ShellLex(init.escapeToken);
    this.file = init.file ?? "Dockerfile";
    this.buildArgs = init.buildArgs;
    this.globalEnv = evaluateGlobalArgs(init.globalArgs, init.buildArgs, init.platforms, init.escapeToken, {
      targetStage: init.targetStage,
      file: this.file,
    }).env;
    if (init.parent) {
      this.env = new Map(init.parent.env);
      this.origin = new Map(init.parent.origin);
      this.args = new Map(init.parent.args);
      this.image = [...init.parent.image];
      return;
    }
    this.image = [...init.baseEnv];
    // PATH is always set for Linux images (BuildKit adds its default when the base has none).
    if (!this.image.some((e) => splitEnv(e)[0] === "PATH") && init.platforms.target.os !== "windows") {
      this.image.push("PATH=" + DEFAULT_PATH);
    }
    this.env = new Map();
    this.origin = new Map();
    this.args = new Map();
    for (const e of this.image) {
      const [k, v] = splitEnv(e);
      this.setEnv(k, v, "env");
    }
  }

  private setEnv(k: string, v: string, from: "arg" | "env"): void {
    this.env.delete(k);
    this.env.set(k, v);
    this.origin.set(k, from);
  }

  private fail(inst: Instruction, e: unknown): never {
    if (e instanceof ShellExpansionError) throw expansionError(inst, e, this.file, this.lex.escapeToken);
    if (e instanceof InstructionError) throw instructionError(inst, e.message, this.file);
    throw e;
  }

  private usedArgsOf(x: Expander, snapshotOrigin: Map<string, "arg" | "env">, snapshotEnv: Map<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of x.used) {
      if (snapshotOrigin.get(name) === "arg") out[name] = snapshotEnv.get(name) as string;
    }
    return out;
  }

  /**
   * Expands `inst` with the scope before it (RUN text is left to the shell,
   * but --mount values expand; COPY/ADD heredoc bodies expand unless their
   * delimiter was quoted), then applies its effect on the scope. Returns the
   * expanded copy and the ARG values the expansion read. Throws DockerfileSyntaxError.
   */
  step<I extends Instruction>(inst: I): { inst: I; usedArgs: Record<string, string> } {
    if (inst.kind === "arg") return this.stepArg(inst) as { inst: I; usedArgs: Record<string, string> };
    const x = makeExpander(this.lex, this.env);
    let out: I;
    try {
      out = expandInstruction(inst, x);
    } catch (e) {
      this.fail(inst, e);
    }
    const usedArgs = this.usedArgsOf(x, this.origin, this.env);
    if (out.kind === "env") {
      for (const { key, value } of out.pairs) {
        this.setEnv(key, value, "env");
        this.addImageEnv(key, value);
      }
    }
    return { inst: out, usedArgs };
  }

  private addImageEnv(k: string, v: string): void {
    if (!this.imageIndex) {
      this.imageIndex = new Map<string, number>();
      const index = this.imageIndex;
      // Docker replaces the first entry of a name, so keep the first position of duplicates.
      this.image.forEach((e, i) => {
        const name = splitEnv(e)[0];
        if (!index.has(name)) index.set(name, i);
      });
    }
    const i = this.imageIndex.get(k);
    if (i !== undefined) this.image[i] = `${k}=${v}`;
    else {
      this.imageIndex.set(k, this.image.length);
      this.image.push(`${k}=${v}`);
    }
  }

  private stepArg(inst: ArgInstruction): { inst: ArgInstruction; usedArgs: Record<string, string> } {
    const usedArgs: Record<string, string> = {};
    const args = inst.args.map((a) => {
      const given = this.buildArgs.get(a.name);
      let value: string | undefined;
      if (given !== undefined) value = given;
      else if (a.default !== undefined) {
        // Each ARG of the line sees the ones before it (unlike ENV).
        const x = makeExpander(this.lex, this.env);
        try {
          value = x.word(a.default);
        } catch (e) {
          this.fail(inst, e);
        }
        Object.assign(usedArgs, this.usedArgsOf(x, this.origin, this.env));
      } else value = this.globalEnv.get(a.name);
      if (value !== undefined && !NON_ENV_ARGS.has(a.name)) this.setEnv(a.name, value, "arg");
      this.args.delete(a.name);
      this.args.set(a.name, value);
      return value === undefined ? { name: a.name } : { name: a.name, default: value };
    });
    return { inst: { ...inst, args }, usedArgs };
  }

  /** The image config env: base env (with PATH), then ENV instructions, later values replacing earlier ones in place. */
  imageEnv(): string[] {
    return [...this.image];
  }

  /**
   * The environment of a RUN: base env, ARG values and ENV values (ENV wins
   * over an ARG of the same name when it comes later), plus the proxy
   * variables given as build args, which BuildKit passes without an ARG.
   */
  runEnv(): string[] {
    const out: string[] = [];
    for (const [k, v] of this.env) out.push(`${k}=${v}`);
    const proxies = new Map<string, string>();
    for (const key of [...this.buildArgs.keys()].sort()) {
      const canon = PROXY_ARGS.find((p) => p.toUpperCase() === key.toUpperCase());
      if (canon) proxies.set(canon.toUpperCase(), this.buildArgs.get(key) as string);
    }
    // BuildKit's fixed order: HTTP, HTTPS, FTP, NO, ALL.
    for (const upper of ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"]) {
      const v = proxies.get(upper);
      if (v === undefined || v === "") continue;
      for (const k of [upper, upper.toLowerCase()]) if (!this.env.has(k)) out.push(`${k}=${v}`);
    }
    return out;
  }

  /** ARGs declared in the stage so far (inherited ones included) with their current values. */
  argsInScope(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, declared] of this.args) {
      const v = this.env.get(k) ?? declared;
      if (v !== undefined) out[k] = v;
    }
    return out;
  }

  /** The value a word would expand to now (for tools and tests). */
  expandWord(word: string): string {
    return this.lex.processWord(word, this.env).result;
  }
}
