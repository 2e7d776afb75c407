// The cache protocol every layer-producing step follows: look the key up; on a hit reuse
// the recorded layer without running anything; on a miss produce the layer into a fresh
// snapshot draft, commit it, and record it under the key.
import type { SnapshotDraft } from "@tbuild/cache";
import type { Digest } from "@tbuild/oci";
import type { CacheSource, StepRef } from "../api-types.js";
import { chainOf, commitLayerDraft, snapshotFromSibling } from "../image-state/layers.js";
import { withLayer, type ImageState } from "../image-state/state.js";
import type { BuildSession } from "./session.js";
import { digestJSON } from "../util/digest.js";
import { explainMiss, keepListing, listRecord, type ExplainHints, type ExplainNote } from "./explain/miss-reason.js";
import { noteOrigin, stepName } from "./explain/origins.js";
import type { KeyInputs } from "./explain/diff.js";

/** What the cache index holds for a layer step. */
export interface LayerRecordValue {
  diffID: Digest;
  size: number;
  created: string;
  /** The key's inputs and where its parents came from, to explain later misses (explain/). */
  explain?: ExplainNote;
}

/** What a layer step hands in: its key is digestJSON(inputs); the rest is not part of it. */
export interface LayerStepOptions {
  inputs: KeyInputs;
  createdBy: string;
  noCache: boolean;
  explain?: ExplainHints;
}

/** Top chain ID of a state (undefined for an empty rootfs). */
export function topChain(s: ImageState): Digest | undefined {
  return s.fsKey === "scratch" ? undefined : (s.fsKey as Digest);
}

/**
 * Steps being produced in this process, by store and key. A second build (or stage) that
 * reaches the same key meanwhile waits for the first and then takes its result from the
 * cache, as BuildKit merges identical in-flight operations — so two services of a compose
 * file share the layers of their common steps instead of making two different ones.
 */
const inflight = new Map<string, Promise<unknown>>();

/**
 * Runs one layer step through the cache. `produce` fills the draft (overlay-upper format)
 * and may throw; the draft is then discarded.
 */
export async function layerStep(
  session: BuildSession,
  step: StepRef,
  state: ImageState,
  opts: LayerStepOptions,
  produce: (draft: SnapshotDraft) => Promise<void>,
): Promise<ImageState> {
  let key = digestJSON(opts.inputs);
  // SOURCE_DATE_EPOCH clamps the times in every layer's tar (commitLayerDraft), so it is an
  // input of every layer: a layer made without it (or with another) is not this step's.
  if (session.sourceDateEpoch !== undefined) key = digestJSON({ key, sde: session.sourceDateEpoch });
  const flightKey = `${session.store.root}\0${key}`;
  for (let running = inflight.get(flightKey); running; running = inflight.get(flightKey)) await running.catch(() => {});
  const work = runLayerStep(session, step, state, { ...opts, key }, produce);
  inflight.set(flightKey, work);
  try {
    return await work;
  } finally {
    if (inflight.get(flightKey) === work) inflight.delete(flightKey);
  }
}

async function runLayerStep(
  session: BuildSession,
  step: StepRef,
  state: ImageState,
  opts: LayerStepOptions & { key: string },
  produce: (draft: SnapshotDraft) => Promise<void>,
): Promise<ImageState> {
  const { store } = session;
  const parentChain = topChain(state);
  const started = Date.now();
  session.emit({ type: "step-start", step, time: started });
  let layerGone = false;
  if (!opts.noCache) {
    const hit = await store.lookup<LayerRecordValue>(opts.key);
    if (hit) {
      const v = hit.value;
      // The snapshot of this parent chain must exist (a --link record is shared by
      // different parents); the lease keeps it from a concurrent prune from now on.
      const chainID = chainOf(parentChain, v.diffID);
      const missing = await session.hold({ snapshots: [chainID] });
      // A --link layer found below another parent: the same layer, a new chain to snapshot.
      const sibling = () => snapshotFromSibling(store, hit.refs.snapshots, v.diffID, chainID, parentChain, (refs, pending) => session.hold(refs, { pending }));
      if (!missing.snapshots.includes(chainID) || (await sibling())) {
        return cached(session, step, opts, started, "local", chainID, withLayer(state, { diffID: v.diffID, size: v.size }, chainID, opts.createdBy, v.created));
      }
      layerGone = true;
    }
    const imported = await importedHit(session, opts.key, state, opts.createdBy);
    if (imported) return cached(session, step, opts, started, imported.source, imported.chainID, imported.state);
  }
  // ── explain (miss): why, before the step runs ──
  const miss = await explainMiss(session, step, opts.key, opts.inputs, opts.explain, { noCache: opts.noCache, layerGone });
  session.emit({ type: "step-miss", step, reason: miss.reason, changed: miss.changed, time: Date.now() });
  session.throwIfAborted();
  const draft = await store.prepareSnapshot();
  let layer;
  try {
    await produce(draft);
    session.throwIfAborted();
    layer = await commitLayerDraft(store, draft, parentChain, session.sourceDateEpoch, (refs) => session.hold(refs, { pending: true }));
  } catch (e) {
    await store.abortSnapshot(draft).catch(() => {});
    throw e;
  }
  const created = session.sourceDateEpoch !== undefined ? new Date(session.sourceDateEpoch * 1000).toISOString() : new Date().toISOString();
  const explain = await keepListing(session, miss);
  const value: LayerRecordValue = { diffID: layer.diffID, size: layer.size, created, explain };
  await store.record(opts.key, { value, refs: { snapshots: [layer.chainID], blobs: explain.files ? [explain.files] : [] } });
  await listRecord(session, step, opts.key, opts.inputs);
  noteOrigin(session, layer.chainID, { kind: "step", name: stepName(step), ran: true });
  const durationMs = Date.now() - started;
  session.emit({ type: "step-done", step, status: "ran", durationMs, time: Date.now() });
  const cache = { key: opts.key, inputs: opts.inputs, reason: miss.reason, changed: miss.changed, ...(miss.comparedWith ? { comparedWith: miss.comparedWith } : {}) };
  session.recordStep(step, "ran", durationMs, false, cache);
  return resolved(session, opts.key, withLayer(state, { diffID: layer.diffID, size: layer.size }, layer.chainID, opts.createdBy, created));
}

/**
 * Reports a hit (from the local store or an imported cache) and hands its state on. Explain
 * does no work on a hit beyond naming where the record came from.
 */
function cached(session: BuildSession, step: StepRef, opts: LayerStepOptions & { key: string }, started: number, source: CacheSource, chainID: Digest, state: ImageState): ImageState {
  session.emit({ type: "step-cached", step, source, time: Date.now() });
  noteOrigin(session, chainID, { kind: "step", name: stepName(step), ran: false });
  session.recordStep(step, "cached", Date.now() - started, true, { key: opts.key, inputs: opts.inputs, source });
  return resolved(session, opts.key, state);
}

/** Notes a resolved layer step for --cache-to, and hands its state on. */
function resolved(session: BuildSession, key: string, state: ImageState): ImageState {
  session.layerRecords.push({ key, layers: state.layers, chainID: state.fsKey as Digest, created: state.created });
  return state;
}

/**
 * A hit in an imported cache: the layer is described (blob, diffID) but not fetched; its
 * snapshot is made only if a later step runs on it (session.layerDirs), and the local
 * cache records the key then.
 */
async function importedHit(session: BuildSession, key: string, state: ImageState, createdBy: string) {
  const imports = await session.imports;
  const hit = imports?.lookup(key);
  if (!hit) return undefined;
  const chainID = chainOf(topChain(state), hit.diffID);
  session.lazy.register(hit.blob, hit.remote, { chainID, key, value: { diffID: hit.diffID, size: hit.size, created: hit.created } });
  return { source: hit.source, chainID, state: withLayer(state, { diffID: hit.diffID, size: hit.size, blob: hit.blob }, chainID, createdBy, hit.created) };
}
