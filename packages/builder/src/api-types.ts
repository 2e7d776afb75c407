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

/**
 * Where a build imports cache from (buildx's `--cache-from`). `registry` reads a cache
 * index (`--cache-to type=registry`) or an image carrying inline cache metadata
 * (`--cache-to type=inline`, buildx's `--cache-from IMAGE` shorthand); `local` reads an OCI
 * layout directory written by `--cache-to type=local`. A source that cannot be read is a
 * warning, and the build goes on without it.
 */
export type CacheImportSpec =
  | { type: "registry"; ref: string; insecure?: boolean }
  | { type: "local"; src: string; tag?: string };

/** Options every cache export takes (buildx's keys in parentheses). */
export interface CacheExportCommon {
  /** `min` (default): the final image's steps; `max`: every step of every stage built. */
  mode?: "min" | "max";
  /** Layer compression of the blobs written (compression=), default gzip. */
  compression?: "gzip" | "zstd";
  /** OCI media types (oci-mediatypes=, default true); false writes a docker manifest list. */
  ociMediatypes?: boolean;
  /** A failed export is a warning instead of a failed build (ignore-error=true). */
  ignoreError?: boolean;
}

/**
 * Where a build exports its cache (buildx's `--cache-to`). `inline` puts the metadata into
 * the image config (`moby.buildkit.cache.v0`; mode min only) for pushes of that image.
 */
export type CacheExportSpec =
  | ({ type: "registry"; ref: string; insecure?: boolean } & CacheExportCommon)
  | ({ type: "local"; dest: string; tag?: string } & CacheExportCommon)
  | { type: "inline"; ignoreError?: boolean };

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
  /**
   * Target platform, e.g. "linux/amd64", or several separated by commas
   * ("linux/amd64,linux/arm64"): a multi-platform build, whose result is an image index.
   * Default: the host's.
   */
  platform?: string;
  /** Target platforms as a list (wins over `platform`); more than one makes an image index. */
  platforms?: string[];
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
  /** Caches to import (lazily: metadata first, layer blobs only when a step or output needs them). */
  cacheFrom?: CacheImportSpec[];
  /** Caches to export once the image is built. */
  cacheTo?: CacheExportSpec[];
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
  // --- remote backend (remote-backend/) ---
  /**
   * Build on a BuildKit daemon instead of locally (`tbuild build --builder`, `TBUILD_BUILDER`):
   * `unix:///run/buildkit/buildkitd.sock`, `tcp://host:port[,cacert=F,cert=F,key=F]` or
   * `docker://unix:///var/run/docker.sock` (Docker's embedded BuildKit). The Dockerfile is
   * converted to LLB by tbuild; `root`, `executor`, `snapshotter` do not apply.
   */
  builder?: string;
  // --- end remote backend ---
  /**
   * Cancels the build. A signal already aborted when `build()` is called rejects `result` at
   * once, before anything is read or started. Either way `result` rejects with a
   * `BuildAbortedError` whose `cause` is `signal.reason` (a `TimeoutError` DOMException for
   * `AbortSignal.timeout()`, an "AbortError" for `controller.abort()`, or what was passed).
   */
  signal?: AbortSignal;
}

/**
 * Identifies a step in events and results. Numbering follows BuildKit's progress output:
 * `label` is `[stage N/M] INSTRUCTION`, where N counts FROM as 1 (`index + 1`) and M is
 * `total + 1`; the stage part is the stage's name, `stage-<i>` for an unnamed stage of a
 * build that runs several, and nothing for a single-stage build. It is exactly what the
 * `tbuild` CLI prints.
 */
export interface StepRef {
  id: string;             // unique in the build, e.g. "s1.3"
  stage: string;          // stage name or index as a string
  stageIndex: number;     // 0-based
  index: number;          // 0 for FROM (and ONBUILD triggers), then 1-based per instruction
  total: number;          // instructions in the stage (FROM excluded)
  instruction: string;    // the source text, continuation lines joined
  line: number;           // 1-based line in the Dockerfile
  label: string;          // "[stage-1 2/5] RUN make", as the CLI prints it
  /**
   * Only in a multi-platform build: the platform the stage was built for, "linux/arm64", or
   * "linux/amd64->linux/arm64" for a build-platform stage run per target; a stage built once
   * for every target has the platform it ran on. Part of `id` and `label` there.
   */
  platform?: string;
}

/**
 * How a step got its result in this build.
 * - `cached`: a layer step whose layer came from the cache (nothing ran), or a FROM whose
 *   base was already at hand (the local store, an OCI layout, another stage, scratch).
 * - `ran`: a layer step that ran (RUN, COPY, ADD, WORKDIR), or a FROM that pulled its base.
 * - `metadata`: an instruction that only changes the image config (ENV, LABEL, CMD, ARG …);
 *   replayed every build, it never runs anything.
 */
export type StepStatus = "cached" | "ran" | "metadata";

/** What one output received. BuildKit's exporter response (`containerimage.digest`) per output. */
export interface OutputResult {
  type: OutputSpec["type"];
  /** The file or directory written (oci, docker, oci-layout, local, tar). */
  dest?: string;
  /** The reference pushed to (registry), normalised: `registry/repo:tag`. */
  ref?: string;
  /** The names the image got in the local store (store). */
  names?: string[];
  /**
   * Digest of the manifest this output holds (store, oci, docker, oci-layout, registry).
   * It differs between outputs: the store lists built layers uncompressed, archives and
   * pushes compress them, docker archives use Docker's media types.
   */
  manifestDigest?: Digest;
  /** Media type of that manifest. */
  mediaType?: string;
}

/** Why a build failed, as the `build-error` event carries it (the Error itself rejects `result`). */
export interface BuildErrorInfo {
  /** The error class name: "StepFailedError", "DockerfileSyntaxError", "BuildAbortedError" … */
  name: string;
  message: string;
  /** The error's `code`, for classes that have one (FileOpError, ContextError, OciError …). */
  code?: string;
  /** The failing step, for StepError and StepFailedError. */
  step?: StepRef;
}

/**
 * Events of a build, in order. Every build ends with exactly one outcome event:
 * `build-done` or `build-error` (also for a syntax error, a bad option and a cancelled
 * build); the stream closes right after it.
 */
export type BuildEvent =
  | { type: "build-start"; stages: { name: string; index: number; steps: number }[]; time: number }
  | { type: "step-start"; step: StepRef; time: number }
  | { type: "step-log"; step: StepRef; stream: "stdout" | "stderr"; data: string; time: number }
  /** `source`: where the cache record came from (see StepCacheInfo.source). */
  | { type: "step-cached"; step: StepRef; source?: CacheSource; time: number }
  /**
   * A layer step found no usable cache record and is about to run: `reason` is one line
   * ("ARG VERSION changed", "context files changed: src/app.ts (+2 more)", "parent changed
   * (step 3)", "--no-cache", "not in cache (first build)" …); `changed` lists every key input
   * that differs from the closest previous record, one entry per difference.
   */
  | { type: "step-miss"; step: StepRef; reason: string; changed: ChangedInput[]; time: number }
  /** `status` is "ran", "metadata", or "cached" for a FROM whose base was at hand. */
  | { type: "step-done"; step: StepRef; status: StepStatus; durationMs: number; time: number }
  | { type: "step-error"; step: StepRef; message: string; time: number }
  | { type: "warning"; message: string; line?: number; rule?: string; time: number }
  /** `digest` is the image ID (config digest); `result` says what this output received. */
  | { type: "export"; output: OutputSpec; digest: Digest; result: OutputResult; time: number }
  | { type: "build-done"; digest: Digest; durationMs: number; time: number }
  | { type: "build-error"; error: BuildErrorInfo; durationMs: number; time: number };

/** Where a cache hit's record came from: this store, an imported cache, inline cache metadata of an image. */
export type CacheSource = "local" | "import" | "inline";

/** One key input of a layer step that differs from the record it was compared with. */
export interface ChangedInput {
  /** The key input's name: "parent", "env", "argv", "context", "mounts", "chmod" … */
  input: string;
  /** The difference in words, as progress prints it: "ARG VERSION changed". */
  text: string;
  /** What within the input changed: variable names, context paths (all of them, up to 1000). */
  items?: string[];
}

/**
 * The cache side of one layer step: the inputs its key was computed from, and either where
 * the hit came from or why it missed. Computing the reason costs only on a miss (a few small
 * reads of earlier records); a hit does no work for it.
 */
export interface StepCacheInfo {
  /** The step's cache key. */
  key: string;
  /** The inputs the key digests, by name (the context's files stand in as one digest). */
  inputs: Record<string, unknown>;
  /** Hit: where its record came from. */
  source?: CacheSource;
  /** Miss: one line, the texts of `changed` (or why nothing was compared). */
  reason?: string;
  /** Miss: each input that differs from the closest previous record. */
  changed?: ChangedInput[];
  /** Miss: the key of that closest previous record, if there was one. */
  comparedWith?: string;
}

export interface StepResult {
  step: StepRef;
  status: StepStatus;
  /**
   * True when this step's result is the previous build's: `status` "cached", or a metadata
   * step after only cached steps of its stage. A fully cached rebuild has every step cached.
   */
  cached: boolean;
  durationMs: number;
  /**
   * Layer steps (RUN, COPY, ADD, WORKDIR): the key's inputs and the hit's source or the miss's
   * reason. A FROM of an image: its key, the manifest digest (`inputs: { image, digest }`).
   */
  cache?: StepCacheInfo;
}

export interface BuildResult {
  /** Digest of the image config (what `docker build` prints as the image ID). */
  imageId: Digest;
  /** Digest of the image manifest in the local store (layers uncompressed); see `outputs` for the others. */
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
  platform: Platform;
  /** Every step of the stages built, FROM included, stage by stage in Dockerfile order. */
  steps: StepResult[];
  /** One entry per output, in the order of `BuildOptions.outputs`. */
  outputs: OutputResult[];
  durationMs: number;
  /**
   * A multi-platform build's image index in the local store (`digest`), with one image per
   * target platform in the order they were asked for. The fields above are then the first
   * platform's image.
   */
  index?: { digest: Digest; mediaType: string; manifests: PlatformImageResult[] };
  /**
   * Set for a build on a BuildKit daemon (`builder`): the daemon, and what the session sent
   * of each local directory (entries listed, files and bytes sent). The manifest then only
   * names the config: the daemon keeps the layers.
   */
  remote?: { builder: string; transfers: { dir: string; entries: number; files: number; bytes: number }[] };
}

/** One platform's image of a multi-platform build. */
export interface PlatformImageResult {
  platform: Platform;
  imageId: Digest;
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
}

/**
 * A running build: iterate it for events, await `result` for the outcome. The events form
 * one queue with one consumer: iterate the handle once (a second iterator would take events
 * from the first). Events wait in memory until read, and nothing is dropped, so a caller that
 * never iterates should not keep the handle past the build (a build emits a few events per
 * step plus the RUN output). Breaking out of the loop discards what is left; the build goes
 * on until `result` settles (cancel it with `signal`).
 */
export interface BuildHandle extends AsyncIterable<BuildEvent> {
  readonly result: Promise<BuildResult>;
}
