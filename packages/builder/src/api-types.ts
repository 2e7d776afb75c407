// The public shapes of `build()`: options in, events out, a result at the end.
// The CLI and library users depend on these; keep them stable and documented.
import type { Digest, ImageConfig, Manifest, Platform } from "@tbuild/oci";

/** Where a finished image goes. Several may be given; none means "the local store, under `tags`". */
export type OutputSpec =
  | { type: "store" }                                  // local image store, under BuildOptions.tags
  | { type: "oci"; dest: string; compression?: "gzip" | "zstd" | "none" }   // oci-archive tarball
  | { type: "docker"; dest: string }                   // docker-archive tarball (docker load)
  | { type: "oci-layout"; dest: string }               // OCI layout directory
  | { type: "local"; dest: string }                    // the flattened rootfs as a directory
  | { type: "tar"; dest: string }                      // the flattened rootfs as a tarball
  | { type: "registry"; name: string; insecure?: boolean };  // push

/** A resource limit of RUN steps, as docker build's `--ulimit name=soft:hard` ("unlimited" for -1). */
export interface Ulimit {
  name: string;
  soft: number | "unlimited";
  hard: number | "unlimited";
}

export interface SecretSpec {
  id: string;
  /** A host file holding the value … */
  src?: string;
  /** … or an environment variable of the calling process holding it. */
  env?: string;
}

export interface BuildOptions {
  /** Build context directory. */
  context: string;
  /** Path of the Dockerfile (default `<context>/Dockerfile`) … */
  dockerfile?: string;
  /** … or its text (then `dockerfile` is only used for messages and `.dockerignore` lookup). */
  dockerfileText?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  tags?: string[];
  /** Target platform, e.g. "linux/amd64". Default: the host's. */
  platform?: string;
  labels?: Record<string, string>;
  secrets?: SecretSpec[];
  /**
   * Entitlements, as buildx's `--allow`: "security.insecure" lets `RUN --security=insecure`
   * run privileged (all capabilities, no seccomp filter, no masked /proc paths, the host's
   * devices). Without it such a step is refused.
   */
  allow?: "security.insecure"[];
  /** rlimits of RUN steps (docker build --ulimit); nofile defaults to 1048576 or tbuild's own hard limit. */
  ulimits?: Ulimit[];
  /** Memory limit of each RUN step in bytes (docker build --memory). */
  memory?: number;
  /** Memory plus swap of each RUN step in bytes, -1 for unlimited swap (--memory-swap). Default: twice `memory`. */
  memorySwap?: number;
  /** Most processes and threads a RUN step may have at once (--pids-limit). */
  pidsLimit?: number;
  /** Network mode for RUN steps that do not set `--network` themselves. */
  network?: "default" | "none" | "host";
  noCache?: boolean;
  /** Stage names whose steps always rerun. */
  noCacheFilter?: string[];
  outputs?: OutputSpec[];
  /**
   * Named build contexts, as BuildKit's `--build-context name=value`: a `FROM name` or
   * `COPY --from=name` then uses `oci-layout:///path[:tag|@digest]`, `docker-image://ref`,
   * or a local directory instead of the image or stage of that name.
   */
  buildContexts?: Record<string, string>;
  /** Store root (default: $TBUILD_ROOT, /var/lib/tbuild as root, else XDG data dir). */
  root?: string;
  /** Max stages built at once. Default 4. */
  concurrency?: number;
  /** Registries reachable over plain HTTP besides localhost/127.0.0.0/8/::1. */
  insecureRegistries?: string[];
  executor?: "auto" | "runc" | "unshare";
  snapshotter?: "auto" | "overlay" | "copy";
  signal?: AbortSignal;
}

/** Identifies a step in events: `[stage 2/3] RUN make` style labels are built from it. */
export interface StepRef {
  id: string;             // unique in the build, e.g. "s1.3"
  stage: string;          // stage name or index as a string
  stageIndex: number;     // 0-based
  index: number;          // 1-based step number within the stage (FROM is 0)
  total: number;          // steps in the stage (FROM excluded)
  instruction: string;    // the source text, continuation lines joined
  line: number;           // 1-based line in the Dockerfile
}

export type BuildEvent =
  | { type: "build-start"; stages: { name: string; index: number; steps: number }[]; time: number }
  | { type: "step-start"; step: StepRef; time: number }
  | { type: "step-log"; step: StepRef; stream: "stdout" | "stderr"; data: string; time: number }
  | { type: "step-cached"; step: StepRef; time: number }
  | { type: "step-done"; step: StepRef; durationMs: number; time: number }
  | { type: "step-error"; step: StepRef; message: string; time: number }
  | { type: "warning"; message: string; line?: number; rule?: string; time: number }
  | { type: "export"; output: OutputSpec; digest: Digest; time: number }
  | { type: "build-done"; digest: Digest; durationMs: number; time: number };

export interface StepResult {
  step: StepRef;
  cached: boolean;
  durationMs: number;
}

export interface BuildResult {
  /** Digest of the image config (what `docker build` prints as the image ID). */
  imageId: Digest;
  /** Digest of the image manifest. */
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
  platform: Platform;
  steps: StepResult[];
  durationMs: number;
}

/** A running build: iterate it for events, await `result` for the outcome. */
export interface BuildHandle extends AsyncIterable<BuildEvent> {
  readonly result: Promise<BuildResult>;
}
