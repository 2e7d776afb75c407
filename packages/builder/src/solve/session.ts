// Everything one build shares: its options, the parsed Dockerfile, the store, the
// lazily created expensive parts (context index, sandbox, snapshotter), the memoised
// stage and image results, and the event sink.
import path from "node:path";
import type { Digest, Platform, RegistryClient } from "@tbuild/oci";
import { registryClient } from "../image-transfer/pull.js";
import type { DockerfileIR, Stage, StageEvaluator } from "@tbuild/parser";
import { hashContext, type ContextIndex, type Lease, type Store } from "@tbuild/cache";
import type { BuildEvent, BuildOptions, StepCacheInfo, StepRef, StepResult, StepStatus } from "../api-types.js";
import { Limiter } from "../util/limiter.js";
import { selectExecutor, type Executor } from "../sandbox/index.js";
import { selectSnapshotter, type Snapshotter } from "../snapshot/index.js";
import { lowerStack, type ImageState, type LayerRef } from "../image-state/state.js";
import { LazyLayers } from "../remote-cache/lazy-layers.js";
import { insecureCacheRegistries, type ImportedCache } from "../remote-cache/import.js";
import { BuildAbortedError } from "./errors.js";
import { stageShare, type SharedStages, type StageShare, type StageShareInfo } from "./shared-stages.js";

export interface Platforms {
  target: Platform;
  build: Platform;
}

/**
 * How a session makes what it memoises: a stage's final state, a base image's state.
 * `build()` hands them in, so the session is passed down to stages and steps and never
 * imports them back.
 */
export interface Solvers {
  runStage(session: BuildSession, stage: Stage): Promise<ImageState>;
  loadBaseImage(session: BuildSession, ref: string, platform?: string): Promise<ImageState>;
}

export class BuildSession {
  readonly runLimiter: Limiter;
  readonly leases: Lease[] = [];
  /** Finished steps, in the order they finished (`orderedStepResults` sorts them). */
  readonly stepResults: StepResult[] = [];
  /** Errors already reported with a `step-error` event (kept here, not on the error; one set for all targets). */
  readonly reportedErrors: WeakSet<object>;
  /** Base image refs this build pulled from a registry (their FROM steps "ran"). */
  readonly pulledImages = new Set<string>();
  /** Per stage: whether its result is entirely reused (FROM and every layer step cached). */
  readonly stageReused = new Map<number, boolean>();
  readonly stageResults = new Map<number, Promise<ImageState>>();
  readonly imageResults = new Map<string, Promise<ImageState>>();
  /** Each built stage's variable scope at its end, inherited by `FROM <stage>`. */
  readonly stageEvaluators = new Map<number, { ev: StageEvaluator; declared: string[] }>();
  /** Layers of imported-cache hits, fetched only when needed (one set for all targets of a build). */
  lazy: LazyLayers;
  /** The --cache-from sources' records, read while the first stages resolve their bases. */
  imports?: Promise<ImportedCache>;
  /** Every layer step this build resolved, for --cache-to: its key and the layers of its result. */
  readonly layerRecords: { key: string; layers: LayerRef[]; chainID: Digest; created: string }[] = [];
  private contextIdx?: Promise<ContextIndex>;
  private client?: RegistryClient;
  private exec?: Promise<Executor>;
  private snap?: Promise<Snapshotter>;

  constructor(
    readonly opts: BuildOptions & { context: string; dockerfile: string },
    readonly ir: DockerfileIR,
    readonly dockerfileText: string,
    readonly store: Store,
    readonly platforms: Platforms,
    readonly buildArgs: ReadonlyMap<string, string>,
    readonly emit: (e: BuildEvent) => void,
    readonly sourceDateEpoch: number | undefined,
    private readonly solvers: Solvers,
    /** Stages this build runs (they decide the step labels' stage part). */
    readonly stageCount = 1,
    /** In a multi-platform build: this target's session shares these with the others'. */
    readonly shared?: SharedStages,
  ) {
    this.runLimiter = shared?.runLimiter ?? new Limiter(opts.concurrency ?? 4);
    this.reportedErrors = shared?.reportedErrors ?? new WeakSet<object>();
    this.lazy = new LazyLayers(store, (refs) => this.hold(refs, { pending: true }));
    const signal = opts.signal;
    if (signal?.aborted) this.abort.abort(signal.reason); // an abort listener would never fire
    else if (signal) {
      const onAbort = () => this.abort.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      // One signal may serve many builds: do not leave a listener per build on it.
      this.removeAbortListener = () => signal.removeEventListener("abort", onAbort);
    }
  }

  private removeAbortListener?: () => void;

  /** Aborted by the caller's signal or by the first failing stage (siblings stop too). */
  readonly abort = new AbortController();

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The final state of stage `index`, built once however many stages use it. */
  stage(index: number): Promise<ImageState> {
    let p = this.stageResults.get(index);
    if (!p) {
      const stage = this.ir.stages[index];
      if (!stage) return Promise.reject(new Error(`internal: no stage ${index}`));
      p = this.shared ? this.sharedStage(stage, this.shared) : this.solvers.runStage(this, stage);
      p.catch((e) => this.abort.abort(e));
      this.stageResults.set(index, p);
    }
    return p;
  }

  /** A stage of a multi-platform build: run here, or taken from the target that ran it. */
  private async sharedStage(stage: Stage, shared: SharedStages): Promise<ImageState> {
    const o = await shared.outcome(this.shareOf(stage), async () => {
      const state = await this.solvers.runStage(this, stage);
      return { state, scope: this.stageEvaluators.get(stage.index), reused: this.stageReused.get(stage.index) };
    });
    if (o.scope) this.stageEvaluators.set(stage.index, o.scope);
    if (o.reused !== undefined) this.stageReused.set(stage.index, o.reused);
    return o.state;
  }

  private readonly shares = new Map<number, StageShareInfo>();

  private shareOf(stage: Stage): StageShare {
    return stageShare(this, stage, this.shares);
  }

  /** The platform part of a step's label in a multi-platform build ("linux/arm64"); none in a single-platform one. */
  stepPlatform(stageIndex: number): string | undefined {
    const stage = this.ir.stages[stageIndex];
    return this.shared && stage ? this.shareOf(stage).label : undefined;
  }

  private readonly dirContexts = new Map<string, Promise<ContextIndex>>();

  /** A directory given as a named build context, walked once per build. */
  namedDir(dir: string, open: () => Promise<ContextIndex>): Promise<ContextIndex> {
    let p = this.dirContexts.get(dir);
    if (!p) this.dirContexts.set(dir, (p = open()));
    return p;
  }

  /** A base image (FROM or COPY --from), resolved and unpacked once per build. */
  image(ref: string, platform?: string): Promise<ImageState> {
    const k = `${ref}\0${platform ?? ""}`;
    let p = this.imageResults.get(k);
    if (!p) {
      p = this.solvers.loadBaseImage(this, ref, platform);
      this.imageResults.set(k, p);
    }
    return p;
  }

  /** The build context, walked once with .dockerignore applied; hashing happens on demand. */
  contextIndex(): Promise<ContextIndex> {
    const walk = () =>
      hashContext(this.opts.context, {
        dockerfile: this.opts.dockerfile,
        statCache: this.store.contextStatCachePath(path.resolve(this.opts.context)),
      });
    // One walk for all the targets of a multi-platform build.
    this.contextIdx ??= this.shared ? (this.shared.contextIndex ??= walk()) : walk();
    return this.contextIdx;
  }

  /**
   * The snapshot directories of a state's layers, top-most first (an overlay lower stack),
   * for a step that reads or runs on that filesystem. Imported layers are fetched and
   * unpacked here, the first time a step needs them.
   */
  async layerDirs(state: ImageState): Promise<string[]> {
    await this.lazy.ensureSnapshots(state);
    return lowerStack(state).map((c) => this.store.snapshotPath(c));
  }

  /** One registry client for the build's cache imports, exports and lazy bases; closed with the session. */
  registry(): RegistryClient {
    this.client ??= registryClient([...(this.opts.insecureRegistries ?? []), ...insecureCacheRegistries(this.opts)]);
    return this.client;
  }

  executor(): Promise<Executor> {
    this.exec ??= selectExecutor(this.opts.executor ?? "auto");
    return this.exec;
  }

  snapshotter(): Promise<Snapshotter> {
    this.snap ??= selectSnapshotter(this.opts.snapshotter ?? "auto", { storeDir: this.store.root });
    return this.snap;
  }

  /** True when steps of this stage must rerun whatever the cache holds. */
  noCacheFor(stage: Stage): boolean {
    if (this.opts.noCache) return true;
    const filter = this.opts.noCacheFilter ?? [];
    return filter.includes(stage.name ?? "") || filter.includes(String(stage.index));
  }

  private lease?: Promise<Lease>;
  private leaseQueue: Promise<unknown> = Promise.resolve();

  /**
   * Keeps cache items alive against a concurrent prune until the build ends (one lease
   * for the whole build). Returns the items that were already gone. `pending` leases what
   * the build is about to write, before it becomes visible to a prune.
   */
  async hold(refs: { blobs?: Digest[]; snapshots?: Digest[] }, opts: { pending?: boolean } = {}): Promise<{ blobs: Digest[]; snapshots: Digest[] }> {
    this.lease ??= this.store.lease().then((l) => {
      this.leases.push(l);
      return l;
    });
    const lease = await this.lease;
    // The lease rewrites its file on every add; adds from parallel stages go one at a time.
    const next = this.leaseQueue.then(() => lease.add(refs, opts));
    this.leaseQueue = next.catch(() => {});
    return next;
  }

  /** Records a finished step; `status` decides `cached` except for metadata steps. */
  recordStep(step: StepRef, status: StepStatus, durationMs: number, cached = status === "cached", cache?: StepCacheInfo): void {
    this.stepResults.push({ step, status, cached, durationMs, ...(cache ? { cache } : {}) });
  }

  /** How step `id` finished, once it has. */
  statusOf(id: string): StepStatus | undefined {
    for (let i = this.stepResults.length - 1; i >= 0; i--) if (this.stepResults[i]!.step.id === id) return this.stepResults[i]!.status;
    return undefined;
  }

  /** Step results stage by stage in Dockerfile order (each stage's in the order they ran). */
  orderedStepResults(): StepResult[] {
    return [...this.stepResults].sort((a, b) => a.step.stageIndex - b.step.stageIndex);
  }

  async close(): Promise<void> {
    this.removeAbortListener?.();
    await this.imports?.catch(() => {});
    await this.client?.close().catch(() => {});
    await Promise.all(this.leases.splice(0).map((l) => l.release().catch(() => {})));
    if (this.contextIdx) await (await this.contextIdx.catch(() => undefined))?.save().catch(() => {});
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw new BuildAbortedError(this.signal.reason);
  }
}
