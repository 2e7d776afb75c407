// The typed IR: one discriminated union member per instruction, stages, and the
// stage graph. Words are unexpanded; StageEvaluator expands them. Treat the IR
// as immutable: it shares arrays with the syntax tree, and empty arrays are
// shared and frozen.

import type { EscapeToken, Range, Warning } from "../ast.js";

/** Fields every instruction carries. */
export interface InstructionBase {
  /** The keyword as written (`RUN`, `run`). */
  keyword: string;
  range: Range;
  /** 1-based line of the keyword (range.start.line). */
  line: number;
  /** Exact source text, continuation lines and heredoc bodies included. */
  text: string;
  /** The logical line with continuations joined and outer white space trimmed (BuildKit's command text). */
  original: string;
}

/** A heredoc attached to RUN/COPY/ADD. */
export interface Heredoc {
  name: string;
  /** Body; leading tabs removed from every line when the heredoc was `<<-`. */
  content: string;
  /** Body exactly as read (tabs kept), for handing `<<-` heredocs to a shell. */
  rawContent: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  chomp: boolean;
  fd?: number;
}

export type ShellOrExec = { form: "shell"; command: string } | { form: "exec"; command: string[] };

export type NetworkMode = "default" | "none" | "host";
export type SecurityMode = "sandbox" | "insecure";
export type CacheSharing = "shared" | "private" | "locked";

interface MountFileInfo {
  /** File mode (from octal); uid/gid numeric. */
  mode?: number;
  uid?: number;
  gid?: number;
}

/** RUN --mount=type=bind (the default type). */
export interface BindMount {
  type: "bind";
  target: string;
  source?: string;
  from?: string;
  readonly: boolean;
}
/** RUN --mount=type=cache. `id` defaults to the target. */
export interface CacheMount extends MountFileInfo {
  type: "cache";
  target: string;
  id?: string;
  sharing: CacheSharing;
  from?: string;
  source?: string;
  readonly: boolean;
}
/** RUN --mount=type=tmpfs; `size` in bytes. */
export interface TmpfsMount {
  type: "tmpfs";
  target: string;
  size?: number;
}
/** RUN --mount=type=secret: a file (default /run/secrets/<id>) or, with `env`, a variable. */
export interface SecretMount extends MountFileInfo {
  type: "secret";
  id?: string;
  source?: string;
  target?: string;
  env?: string;
  required: boolean;
}
/** RUN --mount=type=ssh: an SSH agent socket. */
export interface SshMount extends MountFileInfo {
  type: "ssh";
  id?: string;
  target?: string;
  required: boolean;
}

export type MountSpec = (BindMount | CacheMount | TmpfsMount | SecretMount | SshMount) & {
  /** The --mount value as written. */
  raw: string;
  /**
   * True when the value references variables: the typed fields then hold what
   * could be read without expansion, and StageEvaluator.step gives the real mount.
   */
  hasVariables: boolean;
  /** Index of the stage named by `from`, when it names one. */
  fromStage?: number;
};

/** RUN --device=name[,required]. */
export interface DeviceRequest {
  name: string;
  required: boolean;
}

export type RunInstruction = InstructionBase &
  ShellOrExec & {
    kind: "run";
    heredocs: Heredoc[];
    mounts: MountSpec[];
    network?: NetworkMode;
    security?: SecurityMode;
    devices: DeviceRequest[];
  };

/** CMD; a shell form with an empty command means the instruction had no arguments. */
export type CmdInstruction = InstructionBase & ShellOrExec & { kind: "cmd" };
export type EntrypointInstruction = InstructionBase & ShellOrExec & { kind: "entrypoint" };

export interface KeyValue {
  key: string;
  value: string;
}

export interface EnvInstruction extends InstructionBase {
  kind: "env";
  pairs: KeyValue[];
  /** `ENV key value` (deprecated whitespace form). */
  legacy: boolean;
}
export interface LabelInstruction extends InstructionBase {
  kind: "label";
  pairs: KeyValue[];
  legacy: boolean;
}
export interface ExposeInstruction extends InstructionBase {
  kind: "expose";
  ports: string[];
}

interface CopyCommon {
  /** Source paths (not heredocs), unexpanded. */
  sources: string[];
  dest: string;
  /** Inline sources (`COPY <<EOF /dst`). */
  heredocs: Heredoc[];
  chown?: string;
  chmod?: string;
  link: boolean;
  excludes: string[];
  /** True when the sources/dest came from a JSON array. */
  json: boolean;
}
export interface CopyInstruction extends InstructionBase, CopyCommon {
  kind: "copy";
  /** --from: a stage name or index, an image reference or a named context (unexpanded). */
  from?: string;
  /** Index of the stage `from` names, when it names one. */
  fromStage?: number;
  parents: boolean;
}
export interface AddInstruction extends InstructionBase, CopyCommon {
  kind: "add";
  checksum?: string;
  /** Set only when --keep-git-dir was given. */
  keepGitDir?: boolean;
  /** Set only when --unpack was given. */
  unpack?: boolean;
}
export interface VolumeInstruction extends InstructionBase {
  kind: "volume";
  paths: string[];
}
export interface UserInstruction extends InstructionBase {
  kind: "user";
  user: string;
}
export interface WorkdirInstruction extends InstructionBase {
  kind: "workdir";
  path: string;
}
export interface ArgDefinition {
  name: string;
  /** Unexpanded default (quotes kept); undefined for `ARG name`. */
  default?: string;
}
export interface ArgInstruction extends InstructionBase {
  kind: "arg";
  args: ArgDefinition[];
}
export interface OnbuildInstruction extends InstructionBase {
  kind: "onbuild";
  trigger: Instruction;
  /** The trigger as stored in the image config (ONBUILD removed, heredoc bodies appended). */
  triggerText: string;
}
export interface StopsignalInstruction extends InstructionBase {
  kind: "stopsignal";
  signal: string;
}
export interface HealthcheckInstruction extends InstructionBase {
  kind: "healthcheck";
  /** `["CMD", …]` (exec form), `["CMD-SHELL", cmd]` (shell form), or "NONE". */
  test: string[] | "NONE";
  /** Durations in nanoseconds; undefined when not given (or 0). */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}
export interface ShellInstruction extends InstructionBase {
  kind: "shell";
  shell: string[];
}
export interface MaintainerInstruction extends InstructionBase {
  kind: "maintainer";
  name: string;
}

export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | EnvInstruction
  | LabelInstruction
  | ExposeInstruction
  | AddInstruction
  | CopyInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction
  | MaintainerInstruction;

export type InstructionKind = Instruction["kind"];

/** An edge of the stage graph. */
export interface StageDependency {
  /** Index of the stage depended on. */
  stage: number;
  via: "from" | "copy" | "mount";
  /** Line of the FROM, COPY or RUN that creates the edge. */
  line: number;
}

/** One build stage (a FROM and the instructions up to the next FROM). */
export interface Stage {
  index: number;
  /** Lower-cased stage name (`AS name`). */
  name?: string;
  /** Base image or stage, unexpanded. */
  base: string;
  /** --platform value, unexpanded. */
  platform?: string;
  /** Index of an earlier stage that `base` names literally. */
  baseStage?: number;
  instructions: Instruction[];
  /** Stages this one uses (FROM, COPY --from, RUN --mount from=). */
  dependencies: StageDependency[];
  keyword: string;
  range: Range;
  line: number;
  text: string;
  original: string;
}

/** Build-check configuration from `# check=…`. */
export interface CheckConfig {
  skip: string[] | "all";
  /** `error=true`: the build must fail when any check reports a warning. */
  error: boolean;
}

/** The result of toStages. */
export interface DockerfileIR {
  file: string;
  /** ARGs before the first FROM. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** Build-check warnings not skipped by `# check=skip=…`. */
  warnings: Warning[];
  checks: CheckConfig;
  escapeToken: EscapeToken;
  syntax?: string;
}
