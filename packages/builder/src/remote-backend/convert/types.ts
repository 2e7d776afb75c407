// What the IR → LLB conversion carries: the build's inputs (read-only), the vertices made so
// far (the local context is one source shared by every step that reads it), and for each
// stage its LLB state (filesystem output + image config) and variable scope.
import type { DockerfileIR, StageEvaluator } from "@tbuild/parser";
import type { Platform, ImageConfig } from "@tbuild/oci";
import type { Output, Vertex } from "@tbuild/llb";
import type { StepRef, Ulimit } from "../../api-types.js";
import type { ImageState } from "../../image-state/state.js";

/** The image config of a base image (FROM, COPY --from=image), from wherever the daemon finds it. */
export type BaseResolver = (ref: string, platform: Platform) => Promise<ImageConfig>;

export interface ConvertInputs {
  ir: DockerfileIR;
  buildArgs: Map<string, string>;
  platforms: { target: Platform; build: Platform };
  /** In a multi-platform build, the target as StepRef.platform ("linux/arm64"). */
  stepPlatform?: string;
  /** Network of RUN steps that do not set --network. */
  network?: "default" | "none" | "host";
  /** Entitlements granted (security.insecure). */
  allow: string[];
  noCache: boolean;
  noCacheFilter: string[];
  /** Named build contexts (--build-context name=value), named-context.ts. */
  buildContexts?: Record<string, string>;
  /** Build-wide rlimits of every RUN (--ulimit). */
  ulimits?: Ulimit[];
  stageCount: number;
  resolveBase: BaseResolver;
  /** The builder address as given, for messages. */
  builder: string;
  /**
   * The LLB capabilities the daemon reports (LLBBridge.Ping), asked only by a step that needs
   * one beyond BuildKit 0.8's (caps.ts), so that a plain build converts while it connects.
   */
  llbCaps: () => Promise<ReadonlySet<string>>;
}

/** A stage converted: its filesystem in the graph and its image config (tbuild's config code). */
export interface StageLLB {
  fs: Output;
  image: ImageState;
  /** History entries that came with the base (their `created` is kept; ours are the exporter's to date). */
  baseHistory: number;
  ev: StageEvaluator;
  declared: string[];
}

/** Every step, and the vertex that does its work (none for metadata steps). */
export interface StepVertex {
  step: StepRef;
  vertex?: Vertex;
  /** For a RUN: its argv, for the error of a failed run. */
  argv?: string[];
}

export interface ConvertState {
  inputs: ConvertInputs;
  steps: StepVertex[];
  /** The context directory as one local source (made on first use). */
  context(): Output;
  /** A named context's directory as one local source (made on first use). */
  namedLocal(name: string): Output;
  stage(index: number): Promise<StageLLB>;
}

/** What one instruction's conversion is handed (convert/stage.ts makes it per step). */
export interface InstructionContext {
  cs: ConvertState;
  step: StepRef;
  ignoreCache: boolean;
  /** The process environment of a RUN: ARGs in scope, then ENV. */
  env: string[];
  historyArgs: { name: string; value: string }[];
}
